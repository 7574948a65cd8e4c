"""The staff console web application."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from console import alerts, db, security
from console.references import References
from console.audit import ViewAudit
from console.limits import BodySizeLimit, RequestGuard
from console.config import Settings
from console.views import admin, auth, conversations, followups, improve, overview
from console.web import CsrfFailure, Forbidden, NotAuthenticated, make_templates, render

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

STATIC_DIR = Path(__file__).resolve().parent / "static"


class SecurityHeaders:
    """Adds the security headers to every response; pages are never cached."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"cache-control",) or is_static
                ]
                headers += [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in security.SECURITY_HEADERS.items()
                ]
                if not is_static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error_page(request: Request, status_code: int, title: str, text: str):
    if getattr(request.state, "user", None) is None:
        return HTMLResponse(
            f"<!doctype html><title>{status_code}</title><p>{title}</p>", status_code=status_code
        )
    return render(request, "error.html", status_code=status_code, title=title, text=text)


def create_app(db_url: Optional[str] = None, settings: Optional[Settings] = None) -> FastAPI:
    settings = settings or Settings.from_env(db_url)
    db.tables()
    db.events_ready(settings.db_url)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # E-mail alerts run beside the console when CONSOLE_ALERT_* are set (console/alerts.py).
        stop = alerts.start(settings.db_url, settings.data_dir)
        try:
            yield
        finally:
            if stop is not None:
                stop.set()

    app = FastAPI(
        title="MesoGuide staff console", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.signer = security.Signer(settings.secret_key, settings.session_hours * 3600)
    app.state.references = References(settings.db_url, settings.secret_key)
    app.state.references.upgrade_audit_targets()  # audit rows from before references
    app.state.templates = make_templates(settings)
    # Bodies are capped before any form is parsed (outermost after the headers).
    security.redact_access_log()
    app.add_middleware(ViewAudit)
    app.add_middleware(RequestGuard)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for router in (
        auth.public,
        auth.staff,
        conversations.staff,
        conversations.admin,
        followups.staff,
        followups.admin,
        improve.staff,
        overview.staff,
        admin.admin,
    ):
        app.include_router(router)

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated):
        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return HTMLResponse("<!doctype html><title>401</title><p>Sign in first.</p>", status_code=401)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden):
        return _error_page(request, 403, "Not allowed", "This page is for admins.")

    @app.exception_handler(CsrfFailure)
    async def csrf_failure(request: Request, exc: CsrfFailure):
        return _error_page(
            request,
            403,
            "Form expired",
            "The form's security token was missing or wrong. Reload the page and try again.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        titles = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}
        return _error_page(request, exc.status_code, titles.get(exc.status_code, "Error"), "")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return _error_page(request, 400, "Bad request", "")

    return app
