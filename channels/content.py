"""The wording the channel layer needs, read from ``data/content/messages.yml``.

A small loader of its own (``actions/`` is the action server's package and must not
be imported into Rasa's process): the file is re-read when it changes, so staff
edits take effect without a restart.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Dict, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent

_cache: Dict[Path, Tuple[float, Any]] = {}
_lock = threading.Lock()


def content_dir() -> Path:
    return Path(os.environ.get("MESOGUIDE_CONTENT_DIR") or ROOT / "data" / "content")


def _load(name: str) -> Dict[str, Any]:
    path = content_dir() / f"{name}.yml"
    mtime = path.stat().st_mtime
    with _lock:
        cached = _cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    with _lock:
        _cache[path] = (mtime, data)
    return data


class _Placeholders(dict):
    def __missing__(self, key: str) -> str:  # an unknown {name} stays as written
        return "{" + key + "}"


def message(key: str, **values: Any) -> str:
    """The text of ``messages.<key>`` with {clinic_*} details and ``values`` filled in."""
    text = _load("messages")["messages"][key]["text"]
    clinic = {k: str(v) for k, v in _load("clinic").items()}
    fields = _Placeholders(
        clinic_name=clinic.get("name", ""),
        clinic_phone=clinic.get("phone", ""),
        clinic_email=clinic.get("email", ""),
        clinic_hours=clinic.get("hours", ""),
        emergency_number=clinic.get("emergency_number", ""),
        urgent_care=clinic.get("urgent_care", ""),
    )
    fields.update({k: str(v) for k, v in values.items()})
    return " ".join(text.format_map(fields).split())
