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
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contentfiles import clinic_placeholders

WEB_DIR = Path(__file__).resolve().parent
REPO_ROOT = WEB_DIR.parent
DEFAULT_CLINIC_FILE = REPO_ROOT / "data" / "content" / "clinic.yml"
DEFAULT_DOMAIN_FILE = REPO_ROOT / "domain.yml"
REQUIRED_CLINIC_KEYS = ("name", "phone", "privacy_url", "emergency_number")
# Bot replies the widget shows as an emergency or urgent-care alert, or after which it
# erases the chat from the device ("delete my data" done): keys of messages.yml and
# responses of domain.yml. A stand-in until the bot marks these replies itself with
# {"custom": {"kind": ...}} (web/README.md).
KNOWN_REPLIES = {
    "emergency": {"messages": ["emergency_local"], "responses": ["utter_emergency"]},
    "urgent_care": {"messages": ["complication_local"], "responses": ["utter_complication"]},
    "data_deleted": {"messages": ["forget_me_done"], "responses": ["utter_forget_me_done"]},
}
PAGES = {"/": "index.html", "/index.html": "index.html", "/about.html": "about.html", "/privacy.html": "privacy.html"}


class ConfigError(RuntimeError):
    pass


@dataclass(frozen=True)
class WebSettings:
    host: str
    port: int
    rasa_url: str
    clinic_file: Path
    content_dir: Path = DEFAULT_CLINIC_FILE.parent
    domain_file: Path = DEFAULT_DOMAIN_FILE

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
            content_dir=Path(env.get("MESOGUIDE_CONTENT_DIR") or DEFAULT_CLINIC_FILE.parent),
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


class _KeepUnknown(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _yaml_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def known_replies(clinic: Mapping[str, Any], messages_file: Path, domain_file: Path) -> dict[str, list[str]]:
    """The texts of KNOWN_REPLIES as the bot sends them (clinic details filled in,
    whitespace collapsed); a key missing from the content files is left out."""
    fields = _KeepUnknown(clinic_placeholders(clinic))
    messages = _yaml_file(messages_file).get("messages") or {}
    responses = _yaml_file(domain_file).get("responses") or {}
    result: dict[str, list[str]] = {}
    for kind, sources in KNOWN_REPLIES.items():
        texts = []
        for key in sources["messages"]:
            entry = messages.get(key)
            if isinstance(entry, dict) and isinstance(entry.get("text"), str):
                texts.append(entry["text"])
        for key in sources["responses"]:
            for variant in responses.get(key) or []:
                if isinstance(variant, dict) and isinstance(variant.get("text"), str):
                    texts.append(variant["text"])
        rendered = []
        for text in texts:
            try:
                text = text.format_map(fields)
            except (ValueError, IndexError):
                pass
            text = " ".join(text.split())
            if text and text not in rendered:
                rendered.append(text)
        result[kind] = rendered
    return result


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

    async def replies(request: Request) -> JSONResponse:
        # Re-read on every request: staff edit messages.yml without restarting anything.
        return JSONResponse(known_replies(clinic, settings.content_dir / "messages.yml", settings.domain_file))

    routes = [Route(path, page) for path in PAGES]
    routes += [
        Route("/healthz", healthz),
        Route("/widget/mesoguide-replies.json", replies),
        Mount("/widget", StaticFiles(directory=WEB_DIR / "static" / "widget"), name="widget"),
        Mount("/static", StaticFiles(directory=WEB_DIR / "static" / "site"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    return SecurityHeaders(app, content_security_policy(rasa_origin))
