"""On-disk library of every generation: one image file + one JSON sidecar per result.

Written by the worker thread before Blender data is touched, with atomic writes (temp
file, fsync, rename), so a crash or a full disk never leaves half a file. Failed and
refused attempts are recorded too (sidecar only). A folder edited by hand (missing
images, corrupt JSON, foreign files) is tolerated: bad entries are skipped, never fatal.
The API key is never written here: sidecars hold only the fields listed in `record()`.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import errors, images
from .request import GenerationRequest, GenerationResult, JobKind, Part, Turn

SCHEMA = 1


class HistoryWriteError(errors.NanoBananaError):
    kind = "history_write"


@dataclass
class Entry:
    id: str
    sidecar: Path
    meta: dict[str, Any]

    @property
    def image_path(self) -> Path | None:
        name = self.meta.get("image_file")
        if not name:
            return None
        path = self.sidecar.with_name(name)
        return path if path.is_file() else None

    @property
    def prompt(self) -> str:
        return str(self.meta.get("prompt", ""))

    @property
    def created(self) -> float:
        try:
            return float(self.meta.get("created_ts", 0.0))
        except (TypeError, ValueError):
            return 0.0


def atomic_write(path: Path, data: bytes) -> None:
    """Write bytes so that `path` is either absent/old or complete, never partial."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise HistoryWriteError(f"Could not save to the history folder {path.parent} "
                                f"({exc.strerror or exc}). Free disk space or choose another "
                                "folder in preferences.") from None


class History:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    # ---------------------------------------------------------------- write
    def _new_id(self) -> str:
        return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)

    def record(self, request: GenerationRequest, *, result: GenerationResult | None = None,
               image_index: int = 0, error: errors.NanoBananaError | None = None,
               blend_file: str = "", extra: dict[str, Any] | None = None) -> Entry:
        """Save one result image (or one failure) with its sidecar. Image first."""
        entry_id = self._new_id()
        day = self.root / entry_id[:8]
        meta: dict[str, Any] = {
            "schema": SCHEMA, "id": entry_id, "created_ts": time.time(),
            "created": time.strftime("%Y-%m-%d %H:%M:%S"), "kind": JobKind(request.kind).value,
            "prompt": request.prompt, "model": request.model,
            "settings": {"aspect_ratio": request.aspect_ratio, "image_size": request.image_size,
                         "variations": request.variations, "seamless": request.seamless},
            "inputs": [self._describe_input(i.data, i.role, i.name) for i in request.images],
            "turns_before": len(request.history),
            "blend_file": blend_file, **(extra or {}),
        }
        if result is not None:
            img = result.images[image_index]
            name = f"{entry_id}{img.extension}"
            atomic_write(day / name, img.data)
            per_image_cost = (result.cost_usd / len(result.images)) if result.cost_usd is not None else None
            meta.update({
                "conversation": self._save_turns(result.turns, img.data, name),
                "image_file": name, "width": img.width, "height": img.height,
                "mime_type": img.mime_type, "text": result.text,
                "finish_reason": result.finish_reason, "model_version": result.model_version,
                "usage": vars(result.usage), "cost_usd": per_image_cost,
                "elapsed_s": round(result.elapsed_s, 3), "attempts": result.attempts,
            })
        if error is not None:
            meta.update({"error": {"kind": error.kind, "message": str(error)},
                         "text": error.model_text})
        # No key in any text (prompt, conversation, Gemini's words, messages, paths), even
        # one pasted into the prompt; signatures and thumbnails are bytes, kept exact.
        meta = errors.redact_all(meta, skip=frozenset({"signature", "thumbnail_png"}))
        sidecar = day / f"{entry_id}.json"
        atomic_write(sidecar, json.dumps(meta, indent=1).encode("utf-8"))
        return Entry(entry_id, sidecar, meta)

    # ---------------------------------------------------------------- conversations
    # Turns are kept so any result can be refined later, even after a restart. Image parts
    # live once each in blobs/<sha256> (the result itself is referenced by its file);
    # thought signatures are stored as base64, byte for byte.
    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    def _save_turns(self, turns: list[Turn], result_data: bytes, result_file: str) -> list[dict]:
        saved = []
        for turn in turns:
            parts = []
            for p in turn.parts:
                d: dict[str, Any] = {}
                if p.text is not None:
                    d["text"] = p.text
                if p.thought:
                    d["thought"] = True
                if p.thought_signature is not None:
                    d["signature"] = base64.b64encode(p.thought_signature).decode("ascii")
                if p.data is not None:
                    d["mime_type"] = p.mime_type
                    if p.data == result_data:
                        d["file"] = result_file
                    else:
                        sha = hashlib.sha256(p.data).hexdigest()
                        if not (self.blobs / sha).exists():
                            atomic_write(self.blobs / sha, p.data)
                        d["blob"] = sha
                parts.append(d)
            saved.append({"role": turn.role, "parts": parts})
        return saved

    def load_turns(self, entry: Entry) -> list[Turn] | None:
        """The conversation that produced `entry`, or None if it cannot be rebuilt."""
        saved = entry.meta.get("conversation")
        if not isinstance(saved, list) or not saved:
            return None
        turns = []
        try:
            for t in saved:
                parts = []
                for d in t["parts"]:
                    data = None
                    if "file" in d:
                        data = entry.sidecar.with_name(d["file"]).read_bytes()
                    elif "blob" in d:
                        data = (self.blobs / d["blob"]).read_bytes()
                    sig = base64.b64decode(d["signature"]) if "signature" in d else None
                    parts.append(Part(text=d.get("text"), data=data, mime_type=d.get("mime_type"),
                                      thought=bool(d.get("thought")), thought_signature=sig))
                turns.append(Turn(t["role"], tuple(parts)))
        except (OSError, KeyError, TypeError, ValueError):
            return None
        return turns

    def _collect_blobs(self) -> None:
        """Remove blobs no remaining sidecar refers to."""
        if not self.blobs.is_dir():
            return
        used = {d.get("blob") for e in self.entries() for t in e.meta.get("conversation") or ()
                if isinstance(t, dict) for d in t.get("parts", ()) if isinstance(d, dict)}
        for blob in self.blobs.iterdir():
            if blob.name not in used:
                blob.unlink(missing_ok=True)

    @staticmethod
    def _describe_input(data: bytes, role: str, name: str) -> dict[str, Any]:
        info: dict[str, Any] = {"role": role, "name": name,
                                "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        try:
            info["thumbnail_png"] = base64.b64encode(images.thumbnail(data, 96)).decode("ascii")
        except Exception:  # noqa: BLE001 - a thumbnail is a nicety
            pass
        return info

    # ---------------------------------------------------------------- read
    def entries(self, *, search: str = "", blend_file: str | None = None,
                with_images_only: bool = False) -> list[Entry]:
        """Entries newest first; unreadable sidecars are skipped."""
        out: list[Entry] = []
        if not self.root.is_dir():
            return out
        needle = search.strip().lower()
        for sidecar in self.root.glob("*/*.json"):
            entry = self.load(sidecar)
            if entry is None:
                continue
            if needle and needle not in entry.prompt.lower():
                continue
            if blend_file is not None and entry.meta.get("blend_file", "") != blend_file:
                continue
            if with_images_only and entry.image_path is None:
                continue
            out.append(entry)
        out.sort(key=lambda e: (e.created, e.id), reverse=True)
        return out

    @staticmethod
    def load(sidecar: Path) -> Entry | None:
        try:
            meta = json.loads(sidecar.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or not isinstance(meta.get("id"), str):
            return None
        return Entry(meta["id"], sidecar, meta)

    def get(self, entry_id: str) -> Entry | None:
        if not entry_id or "/" in entry_id or "\\" in entry_id:
            return None
        return self.load(self.root / entry_id[:8] / f"{entry_id}.json")

    def delete(self, entry_id: str, *, collect: bool = True) -> bool:
        entry = self.get(entry_id)
        if entry is None:
            return False
        if entry.image_path is not None:
            entry.image_path.unlink(missing_ok=True)
        entry.sidecar.unlink(missing_ok=True)
        if collect:
            self._collect_blobs()
        return True

    def total_bytes(self) -> int:
        if not self.root.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.root.glob("*/*") if p.is_file())

    def prune_candidates(self, max_bytes: int) -> list[Entry]:
        """Oldest entries whose removal brings the folder under max_bytes (not deleted)."""
        total = self.total_bytes()
        victims: list[Entry] = []
        for entry in reversed(self.entries()):
            if total <= max_bytes:
                break
            size = entry.sidecar.stat().st_size if entry.sidecar.exists() else 0
            if entry.image_path is not None:
                size += entry.image_path.stat().st_size
            victims.append(entry)
            total -= size
        return victims

    def prune(self, max_bytes: int) -> list[Entry]:
        """Delete prune_candidates(max_bytes); returns what was deleted (shown to the user)."""
        victims = self.prune_candidates(max_bytes)
        for entry in victims:
            self.delete(entry.id, collect=False)
        self._collect_blobs()
        return victims
