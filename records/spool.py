"""A local spool for what could not be written because the database was down.

Records are appended as JSON lines to ``<data dir>/spool/records.jsonl`` (directory
0700, file 0600) under an exclusive ``fcntl`` lock, so several processes can spool
and replay at the same time. Lines that can never be applied (corrupt JSON, a record
the database rejects) are moved to ``records.rejected.jsonl`` beside it for staff to
inspect instead of blocking the spool. Log messages never contain record contents.

The tracker store spools conversation events the same way into ``events.jsonl``
(``{"op": "events", "record": {"sender_id": ..., "events": [...]}}``, already
redacted, or ``"op": "purge"`` after a "forget me" it could not carry out), with its
own rejected file ``events.rejected.jsonl``. ``remove`` takes a conversation's lines
out of every spool file ("delete my data", retention).
"""
import fcntl
import json
import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

from records import db

logger = logging.getLogger(__name__)

SPOOL_FILE = "records.jsonl"
REJECTED_FILE = "records.rejected.jsonl"
EVENTS_FILE = "events.jsonl"
EVENTS_REJECTED_FILE = "events.rejected.jsonl"
ALL_FILES = (SPOOL_FILE, REJECTED_FILE, EVENTS_FILE, EVENTS_REJECTED_FILE)
_REJECTED = {SPOOL_FILE: REJECTED_FILE, EVENTS_FILE: EVENTS_REJECTED_FILE}


def spool_dir() -> Path:
    """Return ``<data dir>/spool``, created with mode 0700."""
    path = db.data_dir() / "spool"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def spool_path(name: str = SPOOL_FILE) -> Path:
    """Return the path of a spool file (default the records spool; it may not exist yet)."""
    return spool_dir() / name


@contextmanager
def locked(path: Path, flags: int) -> Iterator[int]:
    """Open ``path`` (created 0600) and hold an exclusive lock on it; yield the fd."""
    fd = os.open(path, flags | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _append_lines(path: Path, lines: List[bytes]) -> None:
    with locked(path, os.O_WRONLY | os.O_APPEND) as fd:
        os.write(fd, b"".join(lines))
        os.fsync(fd)


def _encode(entry: Dict[str, Any]) -> bytes:
    return (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def append(op: str, record: Dict[str, Any], name: str = SPOOL_FILE) -> None:
    """Append one record for the store operation ``op`` to the spool file ``name``."""
    _append_lines(spool_path(name), [_encode({"op": op, "record": record})])


def pending(name: str = SPOOL_FILE) -> bool:
    """Return True when the spool file holds anything (cheap: one ``stat``, no lock)."""
    try:
        return (db.data_dir(create=False) / "spool" / name).stat().st_size > 0
    except OSError:
        return False


def entries(name: str) -> List[Dict[str, Any]]:
    """The readable entries of a spool file, in order (under its lock)."""
    if not pending(name):
        return []
    found = []
    with locked(spool_path(name), os.O_RDWR) as fd:
        for line in _read_all(fd).splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                found.append(entry)
    return found


def remove(matches: Callable[[bytes, Any], bool], names=ALL_FILES, dry_run: bool = False) -> int:
    """Take every line for which ``matches(raw line, parsed entry or None)`` is true out
    of the spool files ``names``; return how many lines were (or would be) removed."""
    removed = 0
    for name in names:
        if not pending(name):
            continue
        with locked(spool_path(name), os.O_RDWR) as fd:
            lines = _read_all(fd).splitlines(keepends=True)
            kept = []
            for line in lines:
                try:
                    entry = json.loads(line)
                except ValueError:
                    entry = None
                if line.strip() and matches(line, entry):
                    removed += 1
                else:
                    kept.append(line)
            if len(kept) != len(lines) and not dry_run:
                _rewrite(fd, kept)
    return removed


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _rewrite(fd: int, lines: List[bytes]) -> None:
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    if lines:
        os.write(fd, b"".join(lines))
    os.fsync(fd)


def _terminated(line: bytes) -> bytes:
    return line if line.endswith(b"\n") else line + b"\n"


def replay(
    apply: Callable[[str, Dict[str, Any]], None],
    is_transient: Callable[[BaseException], bool],
    name: str = SPOOL_FILE,
) -> int:
    """Apply every spooled record in order with ``apply(op, record)``; return how many.

    Each applied line leaves the spool at once (the spool file is rewritten after
    every line), so a crash in the middle of a replay repeats at most the one
    record being applied. When ``apply`` raises an error for which ``is_transient``
    is true (the database went away again), the unapplied lines stay and the error
    is re-raised. Any other error moves that line to the rejected file and replay
    continues.
    """
    if not pending(name):
        return 0
    path = spool_path(name)
    rejected_path = path.with_name(_REJECTED[name])
    applied = 0
    with locked(path, os.O_RDWR) as fd:
        lines = _read_all(fd).splitlines(keepends=True)
        for index, line in enumerate(lines):
            if line.strip():
                try:
                    entry = json.loads(line)
                    op, record = entry["op"], entry["record"]
                except (ValueError, KeyError, TypeError):
                    _append_lines(rejected_path, [_terminated(line)])
                else:
                    try:
                        apply(op, record)
                        applied += 1
                    except Exception as exc:  # noqa: BLE001 - transient or rejected
                        if is_transient(exc):
                            raise  # this line and the rest stay in the spool
                        _append_lines(rejected_path, [_terminated(line)])
                        logger.warning(
                            "spooled %s record rejected by the database (%s); moved to %s",
                            op,
                            type(exc).__name__,
                            _REJECTED[name],
                        )
            _rewrite(fd, lines[index + 1 :])
    if applied:
        logger.info("replayed %d spooled record(s) from %s", applied, name)
    return applied
