"""Copies of visitors' words outside the database: the NLU inbox and the log files.

"Delete my data" (``records.store.forget_sender``) and the retention purge
(``records.retention``) use these functions so that no server-side copy outlives
the conversation:

- ``<data dir>/nlu_inbox/<intent>.yml``: examples that staff took from conversations
  on the console's "Improve" page (Rasa NLU YAML, one ``    - text`` line per
  example, written by ``console.improve``). An example whose text is one of the
  conversation's messages is removed.
- ``<data dir>/logs/*.log*``: the processes' logs. They should hold no visitor text
  or contact details; whatever slipped in anyway (the conversation id, a quoted
  message) is replaced by a placeholder in the line. For retention, lines older than the
  cut-off are dropped by their leading time stamp (see ``purge_logs_before``).

Files are rewritten in place (same inode, same mode), so a process that appends to a
log keeps appending to the same file. Nothing here logs what it removed.
"""
from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Set

from records import db

NLU_INBOX_DIR = "nlu_inbox"
LOGS_DIR = "logs"
MIN_QUOTED_TEXT = 8
"""A message (or id) shorter than this ("yes", "hello") is too common to look for in logs."""
LOG_PLACEHOLDER = b"[deleted on request]"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_EXAMPLE_LINE = re.compile(r"^(\s*- )(.*?)\s*$")
_LOG_TIME = re.compile(rb"^\[?(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})")


def nlu_inbox_dir() -> Path:
    return db.data_dir(create=False) / NLU_INBOX_DIR


def logs_dir() -> Path:
    return db.data_dir(create=False) / LOGS_DIR


def example_key(text: str) -> str:
    """A message as the console writes it into the NLU inbox (one line, entity
    annotation broken up), lower-cased for comparison."""
    text = " ".join(_CONTROL.sub(" ", text or "").split())
    return text.replace("](", "] (").replace("]{", "] {").lower()


def _rewrite_in_place(path: Path, content: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(0)
        handle.write(content)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())


def _inbox_files() -> List[Path]:
    directory = nlu_inbox_dir()
    return sorted(directory.glob("*.yml")) if directory.is_dir() else []


def scrub_nlu_inbox(texts: Iterable[str], dry_run: bool = False) -> int:
    """Remove NLU inbox examples equal to any of ``texts`` (ignoring case and spacing;
    texts shorter than ``MIN_QUOTED_TEXT``, such as "yes", are anybody's); return how many."""
    keys: Set[str] = {example_key(text) for text in texts if text}
    keys = {key for key in keys if len(key) >= MIN_QUOTED_TEXT}
    if not keys:
        return 0
    removed = 0
    for path in _inbox_files():
        try:
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        except OSError:
            continue
        kept = []
        for line in lines:
            match = _EXAMPLE_LINE.match(line)
            if match and example_key(match.group(2)) in keys:
                removed += 1
            else:
                kept.append(line)
        if len(kept) != len(lines) and not dry_run:
            _rewrite_in_place(path, "".join(kept).encode("utf-8"))
    return removed


def purge_nlu_inbox_before(cutoff: datetime, dry_run: bool = False) -> int:
    """Delete NLU inbox files not changed since ``cutoff``; return how many."""
    old = [path for path in _inbox_files() if datetime.fromtimestamp(path.stat().st_mtime, cutoff.tzinfo) < cutoff]
    if not dry_run:
        for path in old:
            path.unlink(missing_ok=True)
    return len(old)


def _log_files() -> List[Path]:
    directory = logs_dir()
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if path.is_file() and ".log" in path.name)


def scrub_logs(needles: Sequence[str]) -> int:
    """Replace, in every log file, each occurrence of one of ``needles`` (a conversation
    id, its messages of at least ``MIN_QUOTED_TEXT`` characters) with ``LOG_PLACEHOLDER``;
    return how many lines changed.

    Lines are never deleted: a visitor chooses the id and the texts, and must not be
    able to erase other log lines by choosing them.
    """
    wanted = sorted(
        {needle.encode("utf-8") for needle in needles if needle and len(needle) >= MIN_QUOTED_TEXT},
        key=len,
        reverse=True,
    )
    if not wanted:
        return 0
    changed = 0
    for path in _log_files():
        try:
            content = path.read_bytes()
        except OSError:
            continue
        if not any(needle in content for needle in wanted):
            continue
        lines = content.splitlines(keepends=True)
        for index, line in enumerate(lines):
            scrubbed = line
            for needle in wanted:
                scrubbed = scrubbed.replace(needle, LOG_PLACEHOLDER)
            if scrubbed != line:
                lines[index] = scrubbed
                changed += 1
        _rewrite_in_place(path, _with_appended(path, len(content), b"".join(lines)))
    return changed


def _with_appended(path: Path, read_size: int, kept: bytes) -> bytes:
    """``kept`` plus whatever a process appended to ``path`` since it was read."""
    try:
        with open(path, "rb") as handle:
            handle.seek(read_size)
            return kept + handle.read()
    except OSError:
        return kept


def _line_time(line: bytes) -> Optional[datetime]:
    match = _LOG_TIME.match(line)
    if not match:
        return None
    try:
        return datetime.fromisoformat(f"{match.group(1).decode()} {match.group(2).decode()}")
    except ValueError:
        return None


def purge_logs_before(cutoff: datetime, dry_run: bool = False) -> int:
    """Drop log content older than ``cutoff`` (local time, as the logs write it);
    return how many files were deleted or shortened.

    A file last written before the cut-off is deleted. In a newer file, lines are in
    time order: everything up to the last line stamped before the cut-off (and the
    unstamped lines that continue it) is dropped. A file with no stamped line older
    than the cut-off is kept whole.
    """
    local_cutoff = cutoff.astimezone().replace(tzinfo=None)
    changed = 0
    for path in _log_files():
        try:
            stat = path.stat()
            if datetime.fromtimestamp(stat.st_mtime) < local_cutoff:
                changed += 1
                if not dry_run:
                    path.unlink(missing_ok=True)
                continue
            content = path.read_bytes()
        except OSError:
            continue
        lines = content.splitlines(keepends=True)
        start = 0
        for index, line in enumerate(lines):
            moment = _line_time(line)
            if moment is None:
                continue
            if moment < local_cutoff:
                start = index + 1
            else:
                start = index if start else 0
                break
        else:
            if start:
                start = len(lines)
        if start:
            changed += 1
            if not dry_run:
                _rewrite_in_place(path, _with_appended(path, len(content), b"".join(lines[start:])))
    return changed
