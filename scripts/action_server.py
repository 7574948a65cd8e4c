"""MesoGuide's action server: rasa_sdk's app, reachable only by Rasa.

    python -m scripts.action_server [--port PORT]

rasa_sdk 3.6 has no authentication, listens on 0.0.0.0 and answers an error with
the whole request (the visitor's tracker). This entry point serves the same actions
(``actions/``) with three changes:

- it listens on ``ACTION_HOST`` (default 127.0.0.1) and ``ACTION_PORT`` (5055);
- every route except ``/health`` needs the header ``X-MesoGuide-Action-Secret``
  equal to ``MESOGUIDE_ACTION_SECRET`` (401 without it, 403 when wrong; compared in
  constant time). The server refuses to start without a secret. Rasa sends the
  header from ``endpoints.yml`` (``headers:``, filled from the same variable);
  ``scripts/stack.py`` generates a random secret per start when none is set;
- an error is answered with a generic message and logged without the request or
  the exception's text (both can hold what a visitor typed).

It lives outside ``actions/`` because rasa_sdk imports every module of that package.
"""
from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

SECRET_ENV = "MESOGUIDE_ACTION_SECRET"
SECRET_HEADER = "X-MesoGuide-Action-Secret"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055
OPEN_PATHS = frozenset({"/health"})
MIN_SECRET_LENGTH = 16
DEFAULT_REQUEST_MAX_SIZE = 32 * 1024 * 1024
"""Rasa posts the whole tracker; 32 MiB is far above a long conversation's size."""

logger = logging.getLogger("mesoguide.action_server")


class ConfigurationError(SystemExit):
    """The server cannot start as configured."""


def secret_from_env(env=None) -> str:
    env = os.environ if env is None else env
    secret = (env.get(SECRET_ENV) or "").strip()
    if not secret:
        raise ConfigurationError(
            f"{SECRET_ENV} is not set: the action server accepts calls only with this shared secret "
            f"(Rasa sends it from endpoints.yml). `make run` generates one per start."
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigurationError(f"{SECRET_ENV} must be at least {MIN_SECRET_LENGTH} characters")
    return secret


def secret_matches(given: Optional[str], secret: str) -> bool:
    """Constant-time comparison of the header value with the secret."""
    return hmac.compare_digest((given or "").encode("utf-8"), secret.encode("utf-8"))


def create_app(secret: str, actions_package: str = "actions"):
    """rasa_sdk's Sanic app with the secret check and a generic error handler."""
    from rasa_sdk.endpoint import create_app as create_sdk_app
    from sanic import response
    from sanic.exceptions import SanicException

    if not secret:
        raise ConfigurationError(f"{SECRET_ENV} is empty")
    # No browser ever calls the action server: no CORS origin is allowed.
    app = create_sdk_app(actions_package, cors_origins=None)
    app.config.REQUEST_MAX_SIZE = int(os.environ.get("ACTION_REQUEST_MAX_SIZE") or DEFAULT_REQUEST_MAX_SIZE)

    @app.on_request
    async def require_secret(request):
        if request.method == "OPTIONS" or request.path in OPEN_PATHS:
            return None
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return response.json({"error": "authentication required"}, status=401)
        if not secret_matches(given, secret):
            return response.json({"error": "not allowed"}, status=403)
        return None

    # Replaces rasa_sdk's handler, which answers with {"request_body": <the tracker>}.
    @app.exception(Exception)
    async def generic_error(request, exception: Exception):
        if isinstance(exception, SanicException):
            status = getattr(exception, "status_code", 500) or 500
            if status < 500:
                return response.json({"error": "bad request" if status != 404 else "not found"}, status=status)
        frames = "".join(traceback.format_tb(exception.__traceback__))
        logger.error(
            "action server error on %s %s: %s (message withheld: it may contain visitor text)\n%s",
            request.method, request.path, type(exception).__name__, frames,
        )
        return response.json({"error": "internal error"}, status=500)

    return app


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.action_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("ACTION_HOST") or DEFAULT_HOST,
                        help="interface to listen on (ACTION_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_PORT") or DEFAULT_PORT),
                        help="port (ACTION_PORT, default 5055)")
    parser.add_argument("--actions", default="actions", help="package with the actions")
    parser.add_argument("--log-level", default=os.environ.get("ACTION_LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)

    secret = secret_from_env()
    from rasa_sdk import utils as sdk_utils

    sdk_utils.configure_colored_logging(args.log_level)
    sdk_utils.update_sanic_log_level()
    logging.getLogger("mesoguide").setLevel(args.log_level)

    app = create_app(secret, args.actions)
    logger.info("Action server on http://%s:%s (secret header %s required)", args.host, args.port, SECRET_HEADER)
    app.run(host=args.host, port=args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
