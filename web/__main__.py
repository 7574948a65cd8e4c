"""``python -m web``: serve the demo clinic page and the widget on WEB_HOST:WEB_PORT."""

import os
import sys

os.environ["RASA_TELEMETRY_ENABLED"] = "false"

import uvicorn  # noqa: E402

from web.server import ConfigError, WebSettings, create_app  # noqa: E402


def main() -> int:
    settings = WebSettings.from_env()
    try:
        app = create_app(settings)
    except ConfigError as exc:
        print(f"web: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=os.environ.get("WEB_LOG_LEVEL", "info"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
