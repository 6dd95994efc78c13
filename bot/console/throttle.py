"""Anti-automation for the console sign-in: progressive delays, never a lockout.

Each attempt waits according to the recent failures for its account and from its client,
doubling from a small step and capped at a few seconds, so guessing is slowed but the right
person with the right password always gets in. Failures are counted, not audited one by one:
an account's failures in a window give one audit row at the 1st, 10th, 100th, ... failure.
The client is the peer address, or the first untrusted address in X-Forwarded-For when the
peer is one of RJBOT_TRUSTED_PROXIES (a reverse proxy).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from bot.config import Network

WINDOW = 15 * 60.0
MAX_DELAY = 4.0  # seconds: the most any attempt waits
ACCOUNT_FREE = 3  # failures for one account before its attempts wait
CLIENT_FREE = 10  # failures from one client (a shared office address) before they wait
STEP = 0.25


def delay(by_account: int, by_client: int) -> float:
    """Seconds the next attempt waits, given the failures already counted."""
    return max(_step(by_account, ACCOUNT_FREE), _step(by_client, CLIENT_FREE))


def _step(failures: int, free: int) -> float:
    if failures < free:
        return 0.0
    return min(MAX_DELAY, STEP * 2.0 ** min(failures - free, 16))


def audited(rank: int) -> bool:
    """Whether the failure with this rank in its window gets an audit row (1, 10, 100, ...)."""
    while rank >= 10 and rank % 10 == 0:
        rank //= 10
    return rank == 1


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(peer: str, forwarded: str, proxies: Sequence[Network]) -> str:
    """Who is asking: X-Forwarded-For is believed only as far as our own proxies wrote it."""
    if not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        try:
            ip = str(ipaddress.ip_address(hop))
        except ValueError:
            return peer  # a hop our proxy did not write sensibly: trust no further
        if not _trusted(ip, proxies):
            return ip
    return hops[0] if hops else peer
