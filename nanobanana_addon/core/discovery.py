"""Live model discovery: which image models the artist's key can use today.

Asks `models.list` (through google-genai, in `client.GeminiClient.list_models`) at most
once a day per key and endpoint, keeps the answer in a small JSON file in the add-on's
user folder, and falls back to the catalog alone when there is no answer (no key,
offline, a failure: no error is shown for any of them). No bpy here: the Blender layer
starts `refresh()` on a worker thread and reads `LiveList` on the main thread.

The cache file holds model ids, names and a fingerprint of key + endpoint (a truncated
SHA-256, from which the key cannot be recovered), never the key itself.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import models

MAX_AGE_S = 24 * 3600          # ask at most once a day
RETRY_AFTER_FAILURE_S = 3600   # after a failed attempt, wait an hour before asking again
SCHEMA = 1


@dataclass(frozen=True)
class LiveModel:
    id: str
    display_name: str = ""


@dataclass
class LiveList:
    """The image models one key can use, as last fetched."""
    fingerprint: str = ""
    fetched_at: float = 0.0      # 0: never fetched successfully
    failed_at: float = 0.0
    models: list[LiveModel] = field(default_factory=list)   # the image models, for the menu
    listed: list[str] = field(default_factory=list)          # every id the key may use

    @property
    def known(self) -> bool:
        return self.fetched_at > 0

    def ids(self) -> set[str]:
        return {m.id for m in self.models}

    def offers(self, model_id: str) -> bool | None:
        """True/False when the list is known, None when it is not."""
        return (model_id in self.listed or model_id in self.ids()) if self.known else None

    def due(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        if self.failed_at and now - self.failed_at < RETRY_AFTER_FAILURE_S:
            return False
        return not self.known or now - self.fetched_at >= MAX_AGE_S


def fingerprint(key: str | None, endpoint: str | None) -> str:
    return hashlib.sha256(f"{endpoint or ''}\n{key or ''}".encode()).hexdigest()[:16]


def load(path: Path, fp: str) -> LiveList:
    """The cached list for this key + endpoint, or an empty one (never raises)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema") != SCHEMA or data.get("fingerprint") != fp:
            return LiveList(fp)
        return LiveList(fp, float(data.get("fetched_at", 0)), float(data.get("failed_at", 0)),
                        [LiveModel(str(m["id"]), str(m.get("display_name", "")))
                         for m in data.get("models", []) if m.get("id")],
                        [str(i) for i in data.get("listed", [])])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return LiveList(fp)


def save(path: Path, live: LiveList) -> None:
    """Atomic write; a failure to save only means asking again next time."""
    data = {"schema": SCHEMA, "fingerprint": live.fingerprint, "fetched_at": live.fetched_at,
            "failed_at": live.failed_at,
            "models": [{"id": m.id, "display_name": m.display_name} for m in live.models],
            "listed": live.listed}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def image_models(listed: list[tuple[str, str, tuple[str, ...]]]) -> list[LiveModel]:
    """Keep the image models of a `models.list` answer, in catalog order, then new ones."""
    found = {mid: LiveModel(mid, name) for mid, name, methods in listed
             if models.is_image_model(mid, methods or None)}
    order = {m.id: i for i, m in enumerate(models.CATALOG)}
    return sorted(found.values(), key=lambda m: (order.get(m.id, len(order)), m.id))


def fetch(config) -> list[tuple[str, str, tuple[str, ...]]]:
    """(id, name, methods) of every model the key may use. Blocking: a worker thread.
    Raises a NanoBananaError (a wrong key, offline, ...)."""
    from .client import GeminiClient  # google-genai loads here, on the worker
    client = GeminiClient(config)
    try:
        return client.list_models()
    finally:
        client.close()


def refresh(config, path: Path, fp: str, now: float | None = None) -> LiveList:
    """Fetch the list (blocking: call on a worker thread), save and return it. On any
    failure the previous list is kept and the attempt time noted."""
    now = time.time() if now is None else now
    previous = load(path, fp)
    try:
        listed = fetch(config)
    except Exception:  # noqa: BLE001 - discovery is optional: the catalog is used instead
        previous.failed_at = now
        save(path, previous)
        return previous
    live = LiveList(fp, now, 0.0, image_models(listed), sorted(mid for mid, _n, _m in listed))
    save(path, live)
    return live
