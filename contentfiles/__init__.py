"""Reads the clinic-editable content files in ``data/content/`` (one loader for all).

Used by the actions (action server), the input channel and the tracker store (Rasa's
process); it imports neither, so Rasa's process never loads the action modules.
``MESOGUIDE_CONTENT_DIR`` points elsewhere (tests, another clinic). Files are re-read
when they change on disk, so staff edits take effect without a restart.

``contentfiles.patterns`` holds every contact-detail pattern: the strict rules for a
usable e-mail address or phone number (the consultation form) and the in-text
patterns the redaction scans with (``records/redaction.py``).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent

_cache: Dict[Path, Tuple[float, Any]] = {}
_lock = threading.Lock()


def content_dir() -> Path:
    return Path(os.environ.get("MESOGUIDE_CONTENT_DIR") or ROOT / "data" / "content")


def load(name: str) -> Dict[str, Any]:
    """The parsed YAML of ``<content dir>/<name>.yml`` (cached until the file changes)."""
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


# The clinic's details under the placeholder names the texts use ({clinic_phone}...),
# taken from clinic.yml's keys: the one list, for the actions, the channel and the web page.
CLINIC_PLACEHOLDERS = {
    "clinic_name": "name",
    "clinic_phone": "phone",
    "clinic_email": "email",
    "clinic_hours": "hours",
    "emergency_number": "emergency_number",
    "urgent_care": "urgent_care",
    "crisis_line": "crisis_line",
}


def clinic_placeholders(clinic: Mapping[str, Any]) -> Dict[str, str]:
    """``{placeholder: text}`` for a clinic (clinic.yml's mapping); a missing detail is ""."""
    return {name: str(clinic.get(key, "") or "") for name, key in CLINIC_PLACEHOLDERS.items()}


def uncovered_hair_treatments() -> set:
    """Hair treatments the sources say nothing about (routing.yml ``other_treatments`` with
    ``covered: false`` and entries to offer: laser caps, hair systems, exosomes), as
    terminology ``procedure`` values. Read by the routing policy in Rasa's process."""
    groups = (load("routing").get("other_treatments") or {}).values()
    return {p for g in groups if g.get("covered", True) is False and g.get("entries") for p in g.get("procedures") or []}


def has_lead_for(entry_id: str, text: str) -> bool:
    """Knowledge entry ``entry_id`` has a lead whose words ``text`` has ("and the gym?"
    after the aftercare answer: its line on exercise)."""
    from contentfiles.phrases import contains_phrase

    entry = ((load("knowledge").get("entries") or {}).get(entry_id)) or {}
    return any(contains_phrase(text, lead.get("words") or []) for lead in entry.get("leads") or [])


def treatment_entries() -> Dict[str, str]:
    """Knowledge entries about a treatment other than mesotherapy (routing.yml
    ``treatment_entries``): entry id -> the treatment's name in a sentence. Read by the
    routing policy in Rasa's process and by the action that asks which was meant."""
    return {str(k): str(v) for k, v in (load("routing").get("treatment_entries") or {}).items()}


def comparison_sides() -> Dict[str, list]:
    """The sides a comparison can weigh (knowledge.yml ``comparisons``): side -> the
    terminology mentions ("entity:value") that name it. Read by the routing policy in
    Rasa's process and by the action that answers."""
    sides = (load("knowledge").get("comparisons") or {}).get("sides") or {}
    return {side: list(item.get("when") or []) for side, item in sides.items()}
