"""On-disk library of every generation: one image file + one JSON sidecar per result.

Written by the worker thread before Blender data is touched, with atomic writes (temp
file, fsync, rename), so a crash or a full disk never leaves half a file. A job's results
are renamed into place before they land and fsynced just after, off that path
(`durable.py` says why that keeps the guarantee). Failed and
refused attempts are recorded too (sidecar only). A folder edited by hand (missing
images, corrupt JSON, foreign files) is tolerated: bad entries are skipped, never fatal.
The API key is never written here: sidecars hold only the fields listed in `record()`.
Listing, search, totals and prune answer from the SQLite index (`history_index.py`), kept
in step by record() and delete() and rebuilt from the sidecars when needed.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

from . import durable, errors, history_index, images
from .history_index import IndexUnavailable
from .request import GenerationRequest, GenerationResult, JobKind, Part, Turn

SCHEMA = 1


class HistoryWriteError(errors.NanoBananaError):
    kind = "history_write"


class Entry:
    """One saved result or failure: its id, its sidecar and the sidecar's contents (`meta`).
    An entry listed from the index reads its sidecar only when `meta` is first used; what
    the gallery shows (prompt, model, date, cost, image) comes from the index row."""

    __slots__ = ("id", "sidecar", "_meta", "_row")

    def __init__(self, id: str, sidecar: Path, meta: dict[str, Any] | None = None,
                 row: history_index.Row | None = None):
        self.id, self.sidecar, self._meta, self._row = id, sidecar, meta, row

    def __repr__(self) -> str:
        return f"Entry({self.id!r}, {str(self.sidecar)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and (self.id, self.sidecar) == (other.id, other.sidecar)

    def __hash__(self) -> int:
        return hash((self.id, self.sidecar))

    @property
    def meta(self) -> dict[str, Any]:
        if self._meta is None:
            try:
                meta = json.loads(self.sidecar.read_text("utf-8"))
            except (OSError, ValueError):
                meta = None
            self._meta = meta if isinstance(meta, dict) else {}
        return self._meta

    @property
    def image_path(self) -> Path | None:
        name = self._row.image_file if self._row is not None else self.meta.get("image_file")
        return self._beside(name)

    @property
    def mask_path(self) -> Path | None:
        """The mask the result was made with (masked edits), if its file is there."""
        mask = self.meta.get("mask")
        name = mask.get("file") if isinstance(mask, dict) else None
        if not isinstance(name, str) or not name.endswith(History.MASK_SUFFIX):
            return None
        return self._beside(name)

    def _beside(self, name: object) -> Path | None:
        """The file `name` next to the sidecar, if it is there."""
        if not name or not isinstance(name, str):
            return None
        try:
            path = self.sidecar.with_name(name)
        except ValueError:          # a path, not a name, in a hand-edited sidecar
            return None
        return path if path.is_file() else None

    @property
    def prompt(self) -> str:
        return self._row.prompt if self._row is not None else str(self.meta.get("prompt", ""))

    @property
    def model(self) -> str:
        return self._row.model if self._row is not None else str(self.meta.get("model") or "")

    @property
    def created_text(self) -> str:
        return self._row.created_text if self._row is not None else str(self.meta.get("created") or "")

    @property
    def cost_usd(self) -> float | None:
        if self._row is not None:
            return self._row.cost
        cost = self.meta.get("cost_usd")
        return float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None

    @property
    def created(self) -> float:
        if self._row is not None:
            return self._row.created
        try:
            return float(self.meta.get("created_ts", 0.0))
        except (TypeError, ValueError):
            return 0.0


def atomic_write(path: Path, data: bytes, *, sync_later: bool = False) -> None:
    """Write bytes so that `path` is either absent/old or complete, never partial.
    `sync_later`: complete at its name when this returns, fsynced by durable.py after."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            if not sync_later:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
        if sync_later:
            durable.later(path)
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

    @property
    def index(self) -> history_index.HistoryIndex:
        """The SQLite index of this folder (one per folder in this process)."""
        return history_index.for_root(self.root)

    # ---------------------------------------------------------------- write
    def _new_id(self) -> str:
        return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)

    def record(self, request: GenerationRequest, *, result: GenerationResult | None = None,
               image_index: int = 0, error: errors.NanoBananaError | None = None,
               blend_file: str = "", extra: dict[str, Any] | None = None,
               inputs: list[dict[str, Any]] | None = None, sync_later: bool = False) -> Entry:
        """Save one result image (or one failure) with its sidecar. Image first.
        `inputs`: describe_inputs(request.images) made beforehand (while Gemini worked);
        `sync_later`: the files are complete at their names on return, fsynced just after
        (a job's results: their fsync is not on the way to the artist seeing them)."""
        entry_id = self._new_id()
        day = self.root / entry_id[:8]
        meta: dict[str, Any] = {
            "schema": SCHEMA, "id": entry_id, "created_ts": time.time(),
            "created": time.strftime("%Y-%m-%d %H:%M:%S"), "kind": JobKind(request.kind).value,
            "prompt": request.prompt, "model": request.model,
            "settings": {"aspect_ratio": request.aspect_ratio, "image_size": request.image_size,
                         "variations": request.variations, "seamless": request.seamless},
            "inputs": self.describe_inputs(request.images) if inputs is None else inputs,
            "turns_before": len(request.history),
            "blend_file": blend_file, **(extra or {}),
        }
        if result is not None:
            img = result.images[image_index]
            name = f"{entry_id}{img.extension}"
            atomic_write(day / name, img.data, sync_later=sync_later)
            meta.update(self._save_mask(request.mask, day, entry_id, sync_later))
            per_image_cost = (result.cost_usd / len(result.images)) if result.cost_usd is not None else None
            meta.update({
                "conversation": self._save_turns(result.turns, img.data, name, sync_later),
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
        atomic_write(sidecar, json.dumps(meta, indent=1).encode("utf-8"), sync_later=sync_later)
        self.index.add(sidecar, meta)          # after the sidecar, never instead; never raises
        return Entry(entry_id, sidecar, meta)

    # ---------------------------------------------------------------- masks
    # A masked result keeps its mask (masked_edit.AppliedMask: grey PNG at the image's
    # size) as <id>.mask.png next to it, named in the sidecar's "mask" with how it was
    # used, so a recall restores it and Refine edits the same region.
    MASK_SUFFIX = ".mask.png"

    @classmethod
    def _save_mask(cls, mask: Any, day: Path, entry_id: str, sync_later: bool = False) -> dict[str, Any]:
        png, settings = getattr(mask, "png", b""), getattr(mask, "settings", None)
        if not png or not callable(settings):
            return {}
        name = f"{entry_id}{cls.MASK_SUFFIX}"
        atomic_write(day / name, png, sync_later=sync_later)
        return {"mask": {"file": name, **settings()}}

    # ---------------------------------------------------------------- conversations
    # Turns are kept so any result can be refined later, even after a restart. Image parts
    # live once each in blobs/<sha256> (the result itself is referenced by its file);
    # thought signatures are stored as base64, byte for byte.
    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    def _save_turns(self, turns: list[Turn], result_data: bytes, result_file: str,
                    sync_later: bool = False) -> list[dict]:
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
                            atomic_write(self.blobs / sha, p.data, sync_later=sync_later)
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

    @classmethod
    def describe_inputs(cls, inputs) -> list[dict[str, Any]]:
        """The sidecar's "inputs" (hash, size, 96 px thumbnail of each image sent): the
        same for every variation and known before the answer, so a job makes it once
        while Gemini works rather than after the answer, once per variation."""
        return [cls._describe_input(i.data, i.role, i.name) for i in inputs]

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
        """Entries newest first; unreadable sidecars are skipped. `search` matches the starts
        of words of the prompt and model. Brings the index up to date first, so it may
        wait: the gallery uses page() instead."""
        if not self.root.is_dir():
            return []
        try:
            self.index.ensure_current()
            rows = self.index.page(search=search, blend_file=blend_file, with_images_only=with_images_only)
        except (IndexUnavailable, sqlite3.Error, OSError):
            return self.scan(search=search, blend_file=blend_file, with_images_only=with_images_only)
        return [self._entry(r) for r in rows]

    def page(self, *, search: str = "", blend_file: str | None = None, with_images_only: bool = False,
             offset: int = 0, limit: int = 8, count_cap: int | None = None) -> tuple[list[Entry], int]:
        """One page of entries newest first and how many match in all (a search stops
        counting past offset + count_cap), from the index alone: never reads a sidecar and
        never waits for a sync (refresh() catches hand edits)."""
        ix = self.index
        try:
            rows, count = ix.listing(search=search, blend_file=blend_file, with_images_only=with_images_only,
                                     offset=offset, limit=limit, count_cap=count_cap)
        except IndexUnavailable:
            return [], 0
        return [self._entry(r) for r in rows], count

    def page_only(self, *, search: str = "", blend_file: str | None = None, with_images_only: bool = False,
                  offset: int = 0, limit: int = 8) -> list[Entry]:
        """page() without the count (see count()): the panel shows the rows of a keystroke
        in one frame and counts them in the next, so no frame pays for both."""
        try:
            rows = self.index.page(search=search, blend_file=blend_file, with_images_only=with_images_only,
                                   offset=offset, limit=limit)
        except IndexUnavailable:
            return []
        return [self._entry(r) for r in rows]

    def count(self, *, search: str = "", blend_file: str | None = None, with_images_only: bool = False,
              offset: int = 0, count_cap: int | None = None) -> int:
        """How many match, as page() counts them (a search stops past offset + count_cap)."""
        try:
            return self.index.count(search=search, blend_file=blend_file, with_images_only=with_images_only,
                                    offset=offset, count_cap=count_cap)
        except IndexUnavailable:
            return 0

    def totals(self) -> tuple[int, int]:
        """(entries, bytes) from the index alone, never waiting; (0, 0) if it cannot answer."""
        try:
            return self.index.totals()
        except IndexUnavailable:
            return 0, 0

    def refresh(self, *, full: bool = False) -> None:
        """Look for changes made behind our back (hand edits, another Blender) off the main
        thread; a rebuild if the index is missing or broken."""
        self.index.refresh(full=full)

    @property
    def indexing(self) -> bool:
        """The index is being built from the sidecars: page() answers are incomplete."""
        return self.index.building

    def _entry(self, row: history_index.Row) -> Entry:
        return Entry(row.id, self.root / row.folder / f"{row.name}.json", None, row)

    def scan(self, *, search: str = "", blend_file: str | None = None,
             with_images_only: bool = False) -> list[Entry]:
        """entries() by reading every sidecar: the fallback when the index cannot answer
        (and the benchmark's baseline: how listing worked before the index)."""
        out: list[Entry] = []
        if not self.root.is_dir():
            return out
        terms = history_index.words(search)
        for sidecar in self.root.glob("*/*.json"):
            entry = self.load(sidecar)
            if entry is None:
                continue
            if terms and not history_index.matches(f"{entry.prompt} {entry.model}", terms):
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

    def delete(self, entry_id: str, *, collect: bool = True, later: bool = False, wake: bool = True) -> bool:
        """Delete an entry's image and sidecar, then the conversation blobs nothing else
        refers to: now, or with `later` on the index's worker thread (the panel; with
        wake=False at the worker's next wake())."""
        entry = self.get(entry_id)
        if entry is None:
            return False
        if entry.image_path is not None:
            entry.image_path.unlink(missing_ok=True)
        if entry.mask_path is not None:
            entry.mask_path.unlink(missing_ok=True)
        entry.sidecar.unlink(missing_ok=True)
        self.index.remove(entry.sidecar)
        blobs = history_index.blobs_of(entry.meta)
        if collect and later:
            self.index.refresh(collect=blobs, wake=wake)
        elif collect:
            self._collect_blobs(blobs)
        return True

    def _collect_blobs(self, candidates: set[str] | None = None) -> None:
        """Remove blobs no remaining sidecar refers to: all of them, or only `candidates`."""
        if not self.blobs.is_dir() or candidates == set():
            return
        try:
            self.index.ensure_current()       # a sidecar added since the last sync still counts
            self.index.collect_blobs(candidates)
        except (IndexUnavailable, sqlite3.Error, OSError):
            used = {sha for e in self.scan() for sha in history_index.blobs_of(e.meta)}
            for name in [b.name for b in self.blobs.iterdir()] if candidates is None else candidates:
                if name not in used:
                    (self.blobs / name).unlink(missing_ok=True)

    def total_bytes(self) -> int:
        """Bytes of every entry's sidecar and image, and of the conversation blobs."""
        if not self.root.is_dir():
            return 0
        try:
            self.index.ensure_current()
            return self.index.totals()[1]
        except (IndexUnavailable, sqlite3.Error, OSError):
            return sum(p.stat().st_size for p in self.root.glob("*/*") if p.is_file())

    def prune_candidates(self, max_bytes: int) -> list[Entry]:
        """Oldest entries whose removal brings the folder under max_bytes (not deleted)."""
        total = self.total_bytes()
        try:
            return [self._entry(r) for r in self.index.oldest_until(total, max_bytes)]
        except IndexUnavailable:
            pass
        victims: list[Entry] = []
        for entry in reversed(self.scan()):
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

