"""Signing in and out of the console."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.console import auth, throttle
from bot.console.pages import LOGIN, error, form_value, redirect, render
from bot.service import Service


async def login_page(request: Request) -> Response:
    v = await auth.visitor(request)
    if v.user is not None:
        return redirect("/console/")
    return render(request, v, "login.html", email="", problem="")


async def login_submit(request: Request) -> Response:
    """Check CSRF and the password (after any delay); on success rotate the session token."""
    service: Service = request.app.state.service
    v = await auth.visitor(request)
    if not v.csrf_ok(await form_value(request, "csrf")):
        return error(request, v, 403, "This form has expired. Reload the page and try again.")
    email = await form_value(request, "email", 200)
    password = await form_value(request, "password", 1000)
    peer = request.client.host if request.client else "unknown"
    client = throttle.client_address(peer, request.headers.get("x-forwarded-for", ""),
                                     service.settings.trusted_proxies)
    result = await auth.login(service, email, password, client)
    if result.user is None:
        return render(request, v, "login.html", status=401, email=email,
                      problem="That email and password do not match an account.")
    token = await auth.start_session(service, result.user, v.token)
    response = redirect("/console/")
    auth.set_cookie(request, response, auth.Visitor(token, result.user, v.key))
    return response


async def logout(request: Request) -> Response:
    v = await auth.visitor(request)
    if v.user is not None:
        if not v.csrf_ok(await form_value(request, "csrf")):
            return error(request, v, 403, "This form has expired. Reload the page and try again.")
        await auth.end_session(request.app.state.service, v)
    response = redirect(LOGIN)
    response.delete_cookie(auth.COOKIE, path="/console")
    return response
