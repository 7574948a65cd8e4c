"""Whole-word phrase matching of the visitor's text against content words (knowledge.yml
leads, messages.yml word lists): one matcher for the actions and the routing policy."""
from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Optional


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower().strip()
    text = re.sub(r"[\u2019`]", "'", text)
    return re.sub(r"[\s.!,;]+$", "", re.sub(r"\s+", " ", text))


def contains_phrase(text: str, phrases: Iterable[str]) -> Optional[str]:
    """The first phrase that occurs in ``text`` as whole words, or None."""
    norm = f" {re.sub(r'[^a-z0-9 ]+', ' ', normalise(text))} "
    norm = re.sub(r"\s+", " ", norm)
    for phrase in phrases:
        p = re.sub(r"[^a-z0-9 ]+", " ", normalise(phrase)).strip()
        if p and f" {p} " in norm:
            return phrase
    return None
