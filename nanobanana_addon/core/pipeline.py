"""The work one job does on its worker thread: call Gemini, then save every result (and
every failure) to history, before the main thread touches any Blender data. A result
that arrives after a cancel is saved too, with `"cancelled": true` in its sidecar.

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


def run(request: GenerationRequest, config: ClientConfig, history: History | None,
        cancel: threading.Event, blend_file: str = "") -> Outcome:
    masked = None
    if request.mask is not None:        # guide image + wording now, composite on arrival
        from . import masked_edit
        request, masked = masked_edit.prepare(request)
    request = prepare(request)
    outcome = Outcome(request)
    lock = threading.Lock()

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
                saved.append(history.record(request, result=result, image_index=i,
                                            blend_file=blend_file, extra=extra) if history else None)
            except HistoryWriteError as exc:
                saved.append(None)
                with lock:
                    outcome.warnings.append(str(exc))
        notes: list[str] = []
        if request.seamless and request.seamless_fix:   # issue 12 hook: make it tile (core/seamless.py)
            from . import seamless
            result, saved, notes = seamless.ensure(
                result, saved, request, lambda r: client_for(config).generate(r, cancel),
                lambda res, i, extra: history.record(request, result=res, image_index=i, blend_file=blend_file,
                                                     extra=extra) if history else None)
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
