"""fsync after the fact: files already written and renamed into place are made durable on
one background thread, in the order they were handed over (an image before its sidecar).

Why: a 4K result is ~25 MB; its fsync costs 25-75 ms and was the largest part of our time
between Gemini's last byte and the result appearing in Blender. What the history rule
needs before any Blender data is touched is the file complete at its final name in the
file system (`history.atomic_write(..., sync_later=True)` still writes a temp file and
renames it). That already survives Blender crashing or being killed: the data is the
kernel's once write() returns. The fsync only adds survival of a power loss or an OS
crash, and it starts at the same moment either way (right after the write), so the
window in which such a crash loses the file is as long as before; the result is only no
longer held back from the artist during it. In that window the name may be present but
empty after the crash (a hand-damaged entry, which History tolerates), not absent.

`wait()` blocks until everything handed over so far is synced: tests, and once at exit.
No bpy here.
"""
from __future__ import annotations

import atexit
import os
import threading
from collections import deque
from pathlib import Path

_lock = threading.Condition()
_todo: deque[Path] = deque()
_busy = [0]                  # handed over and not yet synced (queued or being synced)
_worker: list[threading.Thread] = []
_errors: list[tuple[Path, str]] = []     # fsyncs that failed (kept for tests and diagnosis)


def later(path: Path) -> None:
    """fsync `path` soon, on the background thread, after every path handed over before."""
    with _lock:
        _todo.append(path)
        _busy[0] += 1
        if not _worker or not _worker[0].is_alive():
            thread = threading.Thread(target=_run, name="nanobanana-fsync", daemon=True)
            _worker[:] = [thread]
            thread.start()
        _lock.notify_all()


def wait(timeout: float | None = None) -> bool:
    """Block until every path handed over so far is synced; False if `timeout` passed."""
    with _lock:
        return _lock.wait_for(lambda: _busy[0] == 0, timeout)


atexit.register(wait, 10.0)       # Blender quitting right after a result: sync it first


def failures() -> list[tuple[Path, str]]:
    with _lock:
        return list(_errors)


def _run() -> None:
    while True:
        with _lock:
            if not _lock.wait_for(lambda: bool(_todo), timeout=30.0):
                _worker.clear()         # idle: the next later() starts a new thread
                return
            path = _todo.popleft()
        try:
            sync(path)
        finally:
            with _lock:
                _busy[0] -= 1
                _lock.notify_all()


def sync(path: Path) -> None:
    """fsync one file by name. Opened for writing (Windows flushes only a writable handle),
    never written. A file deleted meanwhile (a prune, a hand edit) is not an error."""
    try:
        fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return
    except OSError as exc:
        with _lock:
            _errors.append((path, str(exc)))
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        with _lock:
            _errors.append((path, str(exc)))
    finally:
        os.close(fd)
