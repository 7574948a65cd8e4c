"""Request plumbing shared by the views: authentication, roles, CSRF, rendering."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Optional
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates

from console import accounts, attention, labels, security
from console.accounts import Staff
from console.config import Settings
from console.references import TARGET_PREFIX, References

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

MESSAGES = {
    "tagged": "Tag added.",
    "untagged": "Tag removed.",
    "reviewed": "Marked as reviewed.",
    "unreviewed": "Marked as not reviewed.",
    "noted": "Note added.",
    "flagged": "Message flagged.",
    "status": "Status updated.",
    "deleted": "The conversation and every record about the visitor were deleted.",
    "added": "Added to the training data inbox.",
    "user_created": "Account created.",
    "user_updated": "Account updated.",
    "logged_out": "You are signed out.",
    "view_saved": "View saved.",
    "view_deleted": "View deleted.",
    "assigned": "Assignee updated.",
}
ERRORS = {
    "tag": "Tags are 1-64 letters, digits, spaces, '.', ':', '_' or '-'.",
    "note": "A note needs some text (at most 4000 characters).",
    "event": "That message is not part of this conversation.",
    "confirm": "Type the first 8 characters of the conversation reference to confirm the deletion.",
    "intent": "Choose an intent from the list.",
    "nothing": "Select at least one message.",
    "view_name": "A saved view needs a name (at most 80 characters).",
    "view_filters": "Choose some filters before saving them as a view (the text search is not saved).",
    "view_too_many": "You have 50 saved views; delete one first.",
    "assignee": "Choose an active staff member.",
}


class NotAuthenticated(Exception):
    pass


class Forbidden(Exception):
    pass


class CsrfFailure(Exception):
    pass


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def current_user(request: Request) -> Staff:
    state = request.app.state
    url = state.settings.db_url
    session = state.signer.read_session(request.cookies.get(security.SESSION_COOKIE))
    if session is None:
        raise NotAuthenticated()
    user = accounts.session_user(url, session.user_id, security.session_digest(session.session_id))
    if user is None:
        raise NotAuthenticated()
    if not security.tokens_match(security.password_version(user.password_hash), session.password_version):
        raise NotAuthenticated()
    request.state.user = user
    request.state.session = session
    return user


def require_admin(user: Staff = Depends(current_user)) -> Staff:
    if not user.is_admin:
        raise Forbidden()
    return user


async def csrf_protect(request: Request, user: Staff = Depends(current_user)) -> None:
    """Every state-changing request carries the session's CSRF token as a form field."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    form = await request.form()
    if not security.tokens_match(request.state.session.csrf, form.get(security.CSRF_FIELD)):
        raise CsrfFailure()


async def login_csrf_protect(request: Request) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    form = await request.form()
    expected = request.app.state.signer.read_login_token(request.cookies.get(security.LOGIN_CSRF_COOKIE))
    if not security.tokens_match(expected, form.get(security.CSRF_FIELD)):
        raise CsrfFailure()


def secure_cookies(request: Request) -> bool:
    return settings_of(request).secure_cookies or request.url.scheme == "https"


def set_cookie(response, request: Request, name: str, value: str, max_age: Optional[int]) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )


def clear_cookie(response, request: Request, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="strict", secure=secure_cookies(request))


def redirect(path: str, anchor: str = "", **params) -> RedirectResponse:
    """303 to `path` with `params`; `anchor` (an element id) keeps the reader's place."""
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items() if v not in (None, ""))
    target = f"{path}?{query}" if query else path
    if anchor:
        target += "#" + quote(anchor, safe="")
    return RedirectResponse(target, status_code=303)


def conversation_path(ref: str) -> str:
    """A conversation's page, by its reference (console/references.py), never its sender id."""
    return f"/conversations/{quote(ref, safe='')}"


def references(request: Request) -> References:
    return request.app.state.references


def _local(value, tz) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)):
        moment = dt.datetime.fromtimestamp(float(value), tz)
    else:
        moment = accounts.as_utc(value).astimezone(tz)
    return moment.strftime("%Y-%m-%d %H:%M")


def make_templates(settings: Settings) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = lambda value: _local(value, settings.timezone)
    env.filters["pct"] = lambda value: "–" if value is None else f"{value * 100:.1f} %"
    env.filters["conf"] = lambda value: "–" if value is None else f"{value:.2f}"
    env.globals["conversation_path"] = conversation_path
    env.globals["ref_target_prefix"] = TARGET_PREFIX
    env.globals["labels"] = labels
    env.globals["timezone_name"] = str(settings.timezone)
    return Jinja2Templates(env=env)


def render(request: Request, template: str, status_code: int = 200, **context):
    session = getattr(request.state, "session", None)
    params = request.query_params
    context.setdefault("csrf_token", session.csrf if session else "")
    context.setdefault("user", getattr(request.state, "user", None))
    context.setdefault("message", MESSAGES.get(params.get("msg", "")))
    context.setdefault("error", ERRORS.get(params.get("err", "")))
    context.setdefault("active", "")
    if context["user"] is not None and "attention" not in context:
        try:
            context["attention"] = attention.counts(settings_of(request).db_url)
        except Exception as exc:  # the counts are a convenience; a page never fails for them
            logging.getLogger(__name__).warning("attention counts failed: %s", type(exc).__name__)
            context["attention"] = None
    context.setdefault("attention", None)
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
