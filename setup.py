"""The build step pyproject.toml cannot say: compile the translation catalogs into the package.

locales/<lang>/LC_MESSAGES/messages.po becomes bot/locales/<lang>/LC_MESSAGES/messages.mo in
the wheel, so an installed rjbot finds its texts in any folder (bot/i18n.py looks there first).
An editable install (`pip install -e .`) runs from the checkout, where `scripts/i18n.sh
compile` writes the .mo files beside the .po files instead.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithCatalogs(build_py):
    """build_py, then every shipped catalog compiled (fuzzy entries left out, as pybabel does)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        catalogs = sorted((HERE / "locales").glob("*/LC_MESSAGES/*.po"))
        if not catalogs:
            raise SystemExit("rjbot build: no catalogs under locales/*/LC_MESSAGES/")
        for po in catalogs:
            relative = po.relative_to(HERE / "locales").with_suffix(".mo")
            target = Path(self.build_lib) / "bot" / "locales" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=relative.parts[0])
            with target.open("wb") as fh:
                write_mo(fh, catalog)
            self.announce(f"compiled {po.relative_to(HERE)} -> {target}", level=2)


setup(cmdclass={"build_py": BuildWithCatalogs})
