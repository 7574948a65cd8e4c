"""Sign-in and sign-out."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool

from console import accounts, audit, security
from console.accounts import Staff
from console.web import (
    clear_cookie,
    csrf_protect,
    current_user,
    login_csrf_protect,
    redirect,
    render,
    set_cookie,
    settings_of,
)

public = APIRouter(dependencies=[Depends(login_csrf_protect)])
staff = APIRouter(dependencies=[Depends(csrf_protect)])

FAILED = "Sign-in failed. After 5 failed attempts in a row an account is locked for 15 minutes."


def _login_page(request: Request, error: str = "", status_code: int = 200, username: str = ""):
    token, value = request.app.state.signer.new_login_token()
    response = render(
        request,
        "login.html",
        status_code=status_code,
        login_error=error,
        next_path=security.safe_next(request.query_params.get("next")),
        username=username,
        csrf_token=value,
    )
    set_cookie(response, request, security.LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@public.get("/login")
def login_form(request: Request):
    return _login_page(request)


@public.post("/login")
async def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next_path: str = Form("/inbox", alias="next"),
):
    settings = settings_of(request)
    url = settings.db_url
    result = await run_in_threadpool(
        accounts.authenticate, url, username, password, settings.lockout_attempts, settings.lockout_minutes
    )
    if result.user is None:
        target = accounts.normalise_username(username) if result.known_account else None
        detail = "account locked" if result.locked_now else ""
        await run_in_threadpool(audit.record, url, target, "login.failed", None, detail)
        await asyncio.sleep(settings.login_failure_delay)
        return _login_page(request, FAILED, status_code=401, username=username[:64])
    token, session = request.app.state.signer.new_session(result.user.id, result.user.password_hash)
    await run_in_threadpool(audit.record, url, result.user.username, "login", None, "")
    response = redirect(security.safe_next(next_path))
    set_cookie(response, request, security.SESSION_COOKIE, token, max_age=request.app.state.signer.max_age)
    clear_cookie(response, request, security.LOGIN_CSRF_COOKIE)
    return response


@staff.post("/logout")
def logout(request: Request, user: Staff = Depends(current_user)):
    digest = security.session_digest(request.state.session.session_id)
    accounts.sign_out(settings_of(request).db_url, user.username, digest, request.state.session.issued_at + request.app.state.signer.max_age)
    response = redirect("/login", msg="logged_out")
    clear_cookie(response, request, security.SESSION_COOKIE)
    return response
