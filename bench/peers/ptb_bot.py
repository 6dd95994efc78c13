"""Peer: the first-contact bot as people write it with python-telegram-bot 22.

    python bench/peers/ptb_bot.py PORT API_BASE SECRET

A `ConversationHandler` with one state per question, the answers in `context.user_data`
(memory only: a restart forgets every conversation), replies with `reply_text` and inline
buttons, served by PTB's own `run_webhook` (tornado) with the secret token checked. The
Application's defaults otherwise (HTTPXRequest, updates one at a time), as in PTB's examples.
"""

from __future__ import annotations

import sys
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench.peers.script import STEPS

TOKEN = "123456:BENCH-token"
TEXT = filters.TEXT & ~filters.COMMAND


def step(number: int):  # type: ignore[no-untyped-def]
    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None and context.user_data is not None
        context.user_data[f"answer{number}"] = update.message.text
        for text, labels in STEPS[number]:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(label, callback_data=str(n))]
                 for n, label in enumerate(labels, 1)]) if labels else None
            await update.message.reply_text(text, reply_markup=markup)
        return number + 1 if number + 1 < len(STEPS) else ConversationHandler.END
    return answer


def build(api_base: str) -> Application:  # type: ignore[type-arg]
    app = ApplicationBuilder().token(TOKEN).base_url(api_base).build()
    app.add_handler(ConversationHandler(
        entry_points=[MessageHandler(TEXT, step(0))],
        states={n: [MessageHandler(TEXT, step(n))] for n in range(1, len(STEPS))},
        fallbacks=[],
    ))
    return app


def main() -> None:
    port, api_base, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    build(api_base).run_webhook(
        listen="127.0.0.1", port=port, url_path="webhooks/telegram", secret_token=secret,
        webhook_url=f"http://127.0.0.1:{port}/webhooks/telegram")


if __name__ == "__main__":
    main()
