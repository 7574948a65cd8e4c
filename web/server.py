"""The demo clinic site: pages rendered from templates and ``clinic.yml``, the widget's static files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WEB_DIR = Path(__file__).resolve().parent
REPO_ROOT = WEB_DIR.parent
DEFAULT_CLINIC_FILE = REPO_ROOT / "data" / "content" / "clinic.yml"
REQUIRED_CLINIC_KEYS = ("name", "phone", "privacy_url", "emergency_number")
PAGES = {"/": "index.html", "/index.html": "index.html", "/about.html": "about.html", "/privacy.html": "privacy.html"}


class ConfigError(RuntimeError):
    pass


@dataclass(frozen=True)
class WebSettings:
    host: str
    port: int
    rasa_url: str
    clinic_file: Path

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "WebSettings":
        env = os.environ if env is None else env
        rasa_port = env.get("RASA_PORT") or "5005"
        rasa_url = env.get("RASA_URL") or f"http://localhost:{rasa_port}"
        return cls(
            host=env.get("WEB_HOST") or "127.0.0.1",
            port=int(env.get("WEB_PORT") or "8080"),
            rasa_url=rasa_url.rstrip("/"),
            clinic_file=Path(env.get("MESOGUIDE_CLINIC_FILE") or DEFAULT_CLINIC_FILE),
        )


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"RASA_URL must be an absolute http(s) URL, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def load_clinic(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"clinic file not found: {path}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must be a mapping of clinic details")
    missing = [key for key in REQUIRED_CLINIC_KEYS if raw.get(key) in (None, "")]
    if missing:
        raise ConfigError(f"{path} lacks required keys: {', '.join(missing)}")
    clinic = dict(raw)
    for key in ("name", "phone", "email", "privacy_url", "emergency_number"):
        if clinic.get(key) is not None:
            clinic[key] = str(clinic[key])
    return clinic


def content_security_policy(rasa_origin: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' https:",
            f"connect-src 'self' {rasa_origin}",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-frame-options", b"DENY"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
            (b"cache-control", b"no-cache"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in names]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: WebSettings) -> ASGIApp:
    clinic = load_clinic(settings.clinic_file)
    rasa_origin = origin_of(settings.rasa_url)
    templates = Environment(
        loader=FileSystemLoader(WEB_DIR / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    context = {"clinic": clinic, "rasa_url": settings.rasa_url}

    async def page(request: Request) -> HTMLResponse:
        template = templates.get_template(PAGES[request.url.path])
        return HTMLResponse(template.render(page=request.url.path, **context))

    async def not_found(request: Request, exc: Exception) -> HTMLResponse:
        template = templates.get_template("404.html")
        return HTMLResponse(template.render(page=None, **context), status_code=404)

    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    routes = [Route(path, page) for path in PAGES]
    routes += [
        Route("/healthz", healthz),
        Mount("/widget", StaticFiles(directory=WEB_DIR / "static" / "widget"), name="widget"),
        Mount("/static", StaticFiles(directory=WEB_DIR / "static" / "site"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    return SecurityHeaders(app, content_security_policy(rasa_origin))
