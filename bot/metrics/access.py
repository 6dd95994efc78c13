"""The access log and the request latency histogram: one line per HTTP request with its
method, route template, status and milliseconds.

The route is the matched route's template (`/console/cases/{case_id}`), found by matching the
app's routes the way Starlette does; a request no route matches is `unmatched`. The raw path,
its parameters and the query string are never logged or used as a label: a path can hold a case
number and a query a phone number typed into the search box.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("rjbot.access")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
Observe = Callable[[str, str, int, float], None]  # method, route, status, seconds


def route_template(routes: Sequence[BaseRoute], scope: Scope, prefix: str = "") -> str | None:
    """The template of the route that handles this request (a full match first, else the
    route that answers 405), with the templates of the mounts it is under."""
    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        template: str | None = prefix + str(getattr(route, "path_format", ""))
        if isinstance(route, Mount):  # its format ends in the catch-all "/{path}" it hands on
            under = prefix + route.path_format.removesuffix("/{path}")
            template = route_template(route.routes, {**scope, **child}, under)
        if match is Match.FULL:
            return template
        partial = partial or template
    return partial


class AccessLog:
    """ASGI middleware: outermost, so it sees the status of error pages too."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute],
                 observe: Observe | None = None) -> None:
        self.app = app
        self.routes = routes
        self.observe = observe
        # requests that matched a route of a fixed path (no parameter): its template is that
        # path, so the key holds nothing a person typed; bounded by METHODS and the routes
        self._fixed: dict[tuple[str, str, str], str] = {}

    def route(self, scope: Scope) -> str:
        """route_template's answer, or UNMATCHED; a fixed path's is kept."""
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        found = self._fixed.get(key)
        if found is None:
            found = route_template(self.routes, scope) or UNMATCHED
            if found != UNMATCHED and "{" not in found and key[0] in METHODS:
                self._fixed[key] = found
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        route = self.route(scope)
        status = 500  # if the app fails before it answers, the client gets a 500
        started = time.perf_counter()

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            seconds = time.perf_counter() - started
            log.info("%s %s %d %.1fms", method, route, status, seconds * 1000)
            if self.observe is not None:
                self.observe(method, route, status, seconds)
