"""The wording the channel layer needs, read from ``data/content/messages.yml``.

Read through ``contentfiles`` (``actions/`` is the action server's package and must
not be imported into Rasa's process); staff edits take effect without a restart.
"""
from __future__ import annotations

from typing import Any

from contentfiles import clinic_placeholders
from contentfiles import load as _load


class _Placeholders(dict):
    def __missing__(self, key: str) -> str:  # an unknown {name} stays as written
        return "{" + key + "}"


def message(key: str, **values: Any) -> str:
    """The text of ``messages.<key>`` with {clinic_*} details and ``values`` filled in."""
    text = _load("messages")["messages"][key]["text"]
    fields = _Placeholders(clinic_placeholders(_load("clinic")))
    fields.update({k: str(v) for k, v in values.items()})
    return " ".join(text.format_map(fields).split())
