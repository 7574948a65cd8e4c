"""The real REST channel (channels/rest.py) in a Sanic app with Rasa's CORS set-up, without a
model: every message is answered "echo: <text>". For test_widget_channel.py.

python -m tests.web.channel_server PORT ORIGIN
"""
import sys

from rasa.server import configure_cors
from sanic import Sanic

from channels.rest import LimitedRestInput


async def echo(message) -> None:
    await message.output_channel.send_text_message(message.sender_id, "echo: " + message.text)


def main() -> None:
    port, origin = int(sys.argv[1]), sys.argv[2]
    app = Sanic("mesoguide_channel_check")
    configure_cors(app, origin)  # what `rasa run --cors ORIGIN` does
    app.blueprint(LimitedRestInput().blueprint(echo), url_prefix="/webhooks/rest")
    app.run(host="127.0.0.1", port=port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
