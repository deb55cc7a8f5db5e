"""What the Model menu offers: the image models the artist's key can use today.

Main thread only. Holds the last `core.discovery.LiveList` (read from the cache file in
the add-on's user folder, refreshed at most once a day on a worker thread when online
access is on and a key is set), and answers two questions cheaply enough for panel
draws: which models to list (`menu()`), and whether a model id is gone (`gone()`).
Without a list (no key, offline, Vertex AI, a failed call) the catalog's live models are
used and nothing is shown for it. The worker never touches bpy; `poll()` (from the pump's
timer, or `refresh(wait=True)` in background mode) takes its answer on the main thread.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import bpy

from ..core import discovery, errors, models
from ..core.keys import resolve_api_key
from . import preferences

_live = discovery.LiveList()
_thread: threading.Thread | None = None
_answer: list[discovery.LiveList] = []          # handed from the worker to the main thread


def cache_path() -> Path:
    from . import runtime
    return runtime.user_folder() / "models.json"


def _source(context) -> tuple[str, object] | None:
    """(fingerprint, ClientConfig) when discovery may run now, else None."""
    if not bpy.app.online_access:
        return None
    prefs = preferences.get(context)
    key = resolve_api_key(prefs.api_key)
    if prefs.vertex_project.strip() or not key:
        return None
    from . import pump
    config = pump.client_config(context)
    import os
    endpoint = config.base_url or os.environ.get("GOOGLE_GEMINI_BASE_URL", "")
    return discovery.fingerprint(key, endpoint), config


def refresh(context=None, *, force: bool = False, wait: bool = False) -> bool:
    """Start a refresh when one is due (or forced). Returns True when one was started.
    `wait` blocks until it ends (background mode: scripts, the command line, tests)."""
    global _live, _thread
    source = _source(context)
    if source is None:
        return False
    fp, config = source
    if fp != _live.fingerprint:
        _live = discovery.load(cache_path(), fp)
    if _thread is not None or not (force or _live.due()):
        return False
    path = cache_path()
    _thread = threading.Thread(target=lambda: _answer.append(discovery.refresh(config, path, fp)),
                               name="nanobanana-models", daemon=True)
    _thread.start()
    if wait:
        _thread.join(60.0)
        poll()
    return True


def poll() -> bool:
    """Main thread: take a finished refresh. True when the menu may have changed."""
    global _live, _thread
    if _thread is None or _thread.is_alive():
        return False
    _thread = None
    if _answer:
        _live = _answer.pop()
    return True


def live() -> discovery.LiveList:
    return _live


def menu() -> list[models.ModelInfo]:
    """Models for the menu: the key's live image models (catalog facts for known ids,
    safe defaults and "(new)" for the others), else the catalog's live models."""
    if not _live.known or not _live.models:
        return list(models.LIVE)
    out = []
    for m in _live.models:
        info = models.lookup(m.id)
        if not info.known:
            info = replace(info, label=f"{m.display_name or m.id} (new)",
                           description=f"New image model ({m.display_name or m.id}); the add-on "
                                       "uses safe defaults for it")
        out.append(info)
    return out


def gone(model_id: str) -> errors.ModelNotFound | None:
    """The message for a model that is retired or not offered to the key, else None."""
    offered = _live.offers(model_id)
    if offered:
        return None
    if models.is_retired(model_id) or offered is False:
        return errors.model_gone(model_id, listed=offered is None)
    return None


def announce(model_id: str) -> bool:
    """Put the "model is gone" message, with its Switch button, on the status line."""
    from . import runtime
    err = gone(model_id)
    if err is not None:
        runtime.set_status(str(err), "WARNING", err.fix, err.suggested_model)
    return err is not None


def unregister() -> None:
    global _thread
    if _thread is not None:
        _thread.join(5.0)
    _thread = None
    _answer.clear()
