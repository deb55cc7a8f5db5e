"""The work one job does on its worker thread: call Gemini, then save every result (and
every failure) to history, before the main thread touches any Blender data. A result
that arrives after a cancel is saved too, with `"cancelled": true` in its sidecar.
Between the answer and the hand-over only what must come first is done: the answer's
checks and the history files written and renamed into place; their fsync follows on
durable.py's thread, and the sidecar's input thumbnails are made while Gemini works.

Returns an Outcome the Blender pump applies. No bpy here.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from . import errors, images
from .client import ClientConfig, GeminiClient
from .history import Entry, History, HistoryWriteError
from .request import GenerationRequest, GenerationResult, InputImage


@dataclass
class Outcome:
    request: GenerationRequest
    results: list[GenerationResult] = field(default_factory=list)  # in arrival order
    entries: list[Entry | None] = field(default_factory=list)   # one per result image, same order
    failures: list[errors.NanoBananaError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)     # status words that are not warnings

    @property
    def image_count(self) -> int:
        return sum(len(r.images) for r in self.results)


_clients: dict[ClientConfig, GeminiClient] = {}
_clients_lock = threading.Lock()


def client_for(config: ClientConfig) -> GeminiClient:
    """One client per configuration, reused by every job (building google-genai's client
    and its connection pool each time cost a job tens of milliseconds). Thread-safe: the
    client serves concurrent calls; `close_clients()` ends them when the add-on stops."""
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            client = _clients[config] = GeminiClient(config)
        return client


def close_clients() -> None:
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()


def prepare(request: GenerationRequest) -> GenerationRequest:
    """Encode, downscale and re-encode the input images for upload (NumPy and Pillow, on
    the worker thread: the main thread only copied pixels out)."""
    prepared = []
    for img in request.images:
        raw = img.data
        if img.pixels is not None:      # pixels copied out of Blender: encode them here
            from . import pixels
            raw = pixels.blender_png(img.pixels, linear=img.linear, max_side=images.MAX_INPUT_SIDE)
        data, mime = images.prepare_input(raw, name=img.name)
        prepared.append(InputImage(data, mime, img.role, img.name))
    return replace(request, images=prepared)


class _InputsMeanwhile:
    """History.describe_inputs(request.images) (hashes, thumbnails: a PNG input is
    decoded) on a thread of its own while the request is out; get() waits for it. None
    if it failed: record() then describes them itself (and says nothing either way)."""

    def __init__(self, request: GenerationRequest):
        self._done = threading.Event()
        self._value: list[dict] | None = None
        self._images = request.images
        threading.Thread(target=self._run, name="nanobanana-inputs", daemon=True).start()

    def _run(self) -> None:
        try:
            self._value = History.describe_inputs(self._images)
        except Exception:  # noqa: BLE001 - record() describes them itself
            self._value = None
        finally:
            self._done.set()

    def get(self) -> list[dict] | None:
        self._done.wait()
        return self._value


def run(request: GenerationRequest, config: ClientConfig, history: History | None,
        cancel: threading.Event, blend_file: str = "") -> Outcome:
    masked = None
    if request.mask is not None:        # guide image + wording now, composite on arrival
        from . import masked_edit
        request, masked = masked_edit.prepare(request)
    request = prepare(request)
    outcome = Outcome(request)
    lock = threading.Lock()
    inputs = _InputsMeanwhile(request) if history is not None and request.images else None

    def record(res: GenerationResult, i: int, extra: dict | None) -> Entry | None:
        if history is None:
            return None
        return history.record(request, result=res, image_index=i, blend_file=blend_file, extra=extra,
                              inputs=inputs.get() if inputs else None, sync_later=True)

    def keep(result: GenerationResult) -> None:
        # Runs as soon as each variation arrives: the paid image reaches disk first. After
        # a cancel it still runs (on the client's helper thread) for an answer that comes
        # late: the job is reported cancelled, the image is kept in history, marked.
        extra = {"cancelled": True} if cancel.is_set() else None
        if masked is not None:
            from . import masked_edit
            try:
                result = masked_edit.composite(result, masked)
            except Exception as exc:  # noqa: BLE001 - keep the paid answer, say what failed
                with lock:
                    outcome.warnings.append(errors.composite_failed(exc))
        saved: list[Entry | None] = []
        for i in range(len(result.images)):
            try:
                saved.append(record(result, i, extra))
            except HistoryWriteError as exc:
                saved.append(None)
                with lock:
                    outcome.warnings.append(str(exc))
        notes: list[str] = []
        if request.seamless and request.seamless_fix:   # issue 12 hook: make it tile (core/seamless.py)
            from . import seamless
            result, saved, notes = seamless.ensure(
                result, saved, request, lambda r: client_for(config).generate(r, cancel), record)
        with lock:
            outcome.warnings.extend(w for w in result.warnings if w not in outcome.warnings)
            outcome.results.append(result)
            outcome.entries.extend(saved)
            outcome.notes.extend(notes)

    _, failures = client_for(config).generate_variations(request, cancel, on_result=keep)
    outcome.failures = failures
    if history is not None:
        for exc in failures:
            if isinstance(exc, errors.Cancelled):
                continue
            try:
                history.record(request, error=exc, blend_file=blend_file)
            except HistoryWriteError as werr:
                outcome.warnings.append(str(werr))
    if not outcome.results:
        raise failures[0] if failures else errors.malformed("no result")
    return outcome
