"""Signing in and out of the console: the password, then the second factor's code."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.console import auth, signin, throttle, totp
from bot.console.pages import LOGIN, error, form_value, redirect, render
from bot.service import Service

CODE = "/console/login/code"
EXPIRED = "This form has expired. Reload the page and try again."


def _client(request: Request) -> str:
    peer = request.client.host if request.client else "unknown"
    return throttle.client_address(peer, request.headers.get("x-forwarded-for", ""),
                                   request.app.state.service.settings.trusted_proxies)


async def login_page(request: Request) -> Response:
    v = await auth.visitor(request)
    if v.user is not None:
        return redirect("/console/")
    return render(request, v, "login.html", email="", problem="")


async def login_submit(request: Request) -> Response:
    """Check CSRF and the password (after any delay); a right one leads to the code form."""
    service: Service = request.app.state.service
    v = await auth.visitor(request)
    if not v.csrf_ok(await form_value(request, "csrf")):
        return error(request, v, 403, EXPIRED)
    email = await form_value(request, "email", 200)
    password = await form_value(request, "password", 1000)
    result = await auth.login(service, email, password, _client(request))
    if result.user is None:
        return render(request, v, "login.html", status=401, email=email,
                      problem="That email and password do not match an account.")
    token = await signin.start_challenge(service, result.user, v.token)
    response = redirect(CODE)
    auth.set_cookie(request, response, auth.Visitor(token, None, v.key))
    return response


def _code_form(request: Request, v: auth.Visitor, p: signin.Pending, status: int = 200,
               problem: str = "") -> Response:
    link = totp.uri(p.secret, p.user.email)
    key = " ".join(p.secret[i:i + 4] for i in range(0, len(p.secret), 4))
    return render(request, v, "login_code.html", status=status, enrol=not p.enrolled,
                  qr=totp.qr_svg(link) if not p.enrolled else "", key=key, problem=problem)


async def code_page(request: Request) -> Response:
    v = await auth.visitor(request)
    if v.user is not None:
        return redirect("/console/")
    p = await signin.pending(request.app.state.service, v.token)
    if p is None:
        return redirect(LOGIN)
    return _code_form(request, v, p)


async def code_submit(request: Request) -> Response:
    """A code from the app (or a recovery code): the session starts; a first one enrols."""
    service: Service = request.app.state.service
    v = await auth.visitor(request)
    if not v.csrf_ok(await form_value(request, "csrf")):
        return error(request, v, 403, EXPIRED)
    code = await form_value(request, "code", 40)
    result = await signin.check_code(service, v.token, code, _client(request))
    if result.user is None:
        p = await signin.pending(service, v.token) if result.again else None
        if p is None:
            return render(request, v, "login.html", status=401, email="",
                          problem="Please sign in again: the code was wrong too many times,"
                                  " or the sign-in took longer than 5 minutes.")
        return _code_form(request, v, p, 401, "That code is not right. Check the time on"
                                              " your phone and try the newest code.")
    token = await auth.start_session(service, result.user, v.token)
    signed_in = auth.Visitor(token, result.user, v.key)
    if result.recovery:
        return render(request, signed_in, "recovery_codes.html", codes=result.recovery)
    response = redirect("/console/")
    auth.set_cookie(request, response, signed_in)
    return response


async def logout(request: Request) -> Response:
    v = await auth.visitor(request)
    if v.user is not None:
        if not v.csrf_ok(await form_value(request, "csrf")):
            return error(request, v, 403, EXPIRED)
        await auth.end_session(request.app.state.service, v)
    response = redirect(LOGIN)
    response.delete_cookie(auth.COOKIE, path="/console")
    return response
