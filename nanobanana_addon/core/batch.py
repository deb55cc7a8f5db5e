"""The Gemini Batch API: many image requests in one submission, at half the price, answered
later (Google's target is 24 hours, usually much sooner; unfinished work expires at 48).
No bpy here; every call blocks, so the Blender layer runs them on worker threads.

- `submit()`: settled requests -> one batch. Each image is one request carrying exactly
  the contents + generationConfig an interactive call sends (`wire`), inline while the
  whole batch stays under INLINE_LIMIT, else as one JSONL file sent through the Files API.
- `BatchStore`: `<history>/batches.json` keeps every batch's name, state and requests (their
  prepared input images in `<history>/batch_inputs/<sha256>`), so Blender can quit and the
  results are still fetched later, by the panel or by `blender -c nanobanana batch fetch`.
- `refresh()`: asks for the batch's state; once it has ended, reads the answers (inline or
  the result file) and saves each to history, tagged with the batch name and state and
  priced at `models.BATCH_PRICE_FACTOR` of the interactive price, exactly once per
  request even across restarts. Failed requests are recorded as failures; the others'
  images are kept. Requests without an answer (cancelled, expired) are listed as such.
- `cancel()`: asks Gemini to stop; what was finished can still be fetched.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from . import errors, models, wire
from .client import ClientConfig, GeminiClient
from .history import History, atomic_write
from .pipeline import Outcome, prepare
from .request import GenerationRequest, InputImage, JobKind

INLINE_LIMIT = 19 * 1024 * 1024      # Google: inline batch requests up to 20 MB in total
FILE_LIMIT = 2 * 1024 ** 3           # Google: a JSONL batch file up to 2 GB
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED")
STORE_FILE = "batches.json"
INPUTS_DIR = "batch_inputs"
SCHEMA = 1
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def short_state(state: Any) -> str:
    """google-genai's JOB_STATE_* (or REST BATCH_STATE_*) -> PENDING / RUNNING / ..."""
    name = str(getattr(state, "value", None) or getattr(state, "name", None) or state or "")
    for prefix in ("JOB_STATE_", "BATCH_STATE_"):
        name = name.removeprefix(prefix)
    return name or "PENDING"


@dataclass
class BatchRecord:
    """One submitted batch, as kept on disk."""
    name: str                                   # "batches/<id>"
    model: str
    display_name: str = ""
    created_ts: float = 0.0
    updated_ts: float = 0.0
    state: str = "PENDING"                      # PENDING RUNNING SUCCEEDED FAILED CANCELLED EXPIRED
    source: str = "inline"                      # "inline" or "file"
    input_file: str = ""                        # files/<id> of the JSONL file, if any
    blend_file: str = ""
    items: list[dict] = field(default_factory=list)           # one per request (one image each)
    saved: dict[str, list[str]] = field(default_factory=dict)  # key -> history entry ids
    failed: dict[str, dict] = field(default_factory=dict)      # key -> {"kind", "message"}
    missing: list[str] = field(default_factory=list)           # keys without an answer at the end
    estimate_usd: float | None = None           # at the batch price, before sending
    cost_usd: float = 0.0                       # at the batch price, of the results saved
    fetched: bool = False                       # ended and every answer handled
    error: str = ""                             # the last failure to ask Gemini about it

    @property
    def id(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @property
    def ended(self) -> bool:
        return self.state in TERMINAL

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def images_saved(self) -> int:
        return sum(len(ids) for k, ids in self.saved.items() if k not in self.failed)

    def summary(self) -> str:
        return errors.batch_summary(self.display_name or self.id, self.state,
                                    self.images_saved, self.total, len(self.failed), self.cost_usd)

    def to_json(self) -> dict:
        return {"schema": SCHEMA, **asdict(self)}

    @classmethod
    def from_json(cls, d: dict) -> BatchRecord | None:
        if not isinstance(d, dict) or not isinstance(d.get("name"), str):
            return None
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in d.items() if k in known})
        except TypeError:
            return None


class BatchStore:
    """`<root>/batches.json` (atomic writes, one lock per file in this process) plus the
    prepared input images of unfinished batches in `<root>/batch_inputs/`."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.path = self.root / STORE_FILE
        with _locks_guard:
            self._lock = _locks.setdefault(str(self.path.resolve()), threading.Lock())

    def load(self) -> list[BatchRecord]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return []
        rows = data.get("batches", []) if isinstance(data, dict) else []
        return [r for r in map(BatchRecord.from_json, rows) if r is not None]

    def _write(self, records: list[BatchRecord]) -> None:
        body = {"schema": SCHEMA, "batches": [r.to_json() for r in records]}
        atomic_write(self.path, json.dumps(body, indent=1).encode("utf-8"))

    def get(self, name_or_id: str) -> BatchRecord | None:
        want = name_or_id.strip()
        return next((r for r in self.load() if want in (r.name, r.id)), None)

    def put(self, record: BatchRecord) -> None:
        with self._lock:
            records = [r for r in self.load() if r.name != record.name]
            self._write([*records, record])

    def remove(self, name: str) -> bool:
        with self._lock:
            records = self.load()
            kept = [r for r in records if r.name != name]
            if len(kept) == len(records):
                return False
            self._write(kept)
        self.collect_inputs()
        return True

    # ---------------------------------------------------------------- input images
    @property
    def inputs(self) -> Path:
        return self.root / INPUTS_DIR

    def save_input(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        if not (self.inputs / sha).exists():
            atomic_write(self.inputs / sha, data)
        return sha

    def load_input(self, sha: str) -> bytes:
        return (self.inputs / sha).read_bytes()

    def collect_inputs(self) -> None:
        """Remove stored inputs that no unfetched batch still needs."""
        if not self.inputs.is_dir():
            return
        used = {i.get("sha") for r in self.load() if not r.fetched for it in r.items
                for i in it.get("inputs", ())}
        for path in self.inputs.iterdir():
            if path.name not in used:
                path.unlink(missing_ok=True)


# ---------------------------------------------------------------- requests <-> items
def _item(key: str, request: GenerationRequest, store: BatchStore) -> dict:
    return {"key": key, "prompt": request.prompt, "kind": JobKind(request.kind).value,
            "aspect_ratio": request.aspect_ratio, "image_size": request.image_size,
            "seamless": request.seamless, "thinking_level": request.thinking_level,
            "inputs": [{"sha": store.save_input(i.data), "mime": i.mime_type, "role": i.role,
                        "name": i.name} for i in request.images]}


def request_of(record: BatchRecord, item: dict, store: BatchStore) -> GenerationRequest:
    """The request a batch item was sent as (inputs as prepared when it was sent)."""
    images = []
    for i in item.get("inputs", ()):
        try:
            data = store.load_input(i["sha"])
        except OSError:
            continue                # cleaned up: the history entry then lists fewer inputs
        images.append(InputImage(data, i.get("mime") or "image/png", i.get("role") or "reference",
                                 i.get("name") or ""))
    return GenerationRequest(model=record.model, prompt=item.get("prompt", ""), images=images,
                             aspect_ratio=item.get("aspect_ratio"), image_size=item.get("image_size"),
                             variations=1, kind=JobKind(item.get("kind") or JobKind.GENERATE),
                             seamless=bool(item.get("seamless")),
                             thinking_level=item.get("thinking_level"))


def expand(requests: list[GenerationRequest]) -> list[GenerationRequest]:
    """Variations become separate requests of one image each (as interactively), inputs
    prepared (downscaled / re-encoded) once per input: an image shared by many requests
    (the texture edited with 200 prompts, a reference) is encoded once."""
    out: list[GenerationRequest] = []
    done: dict[int, tuple[InputImage, InputImage]] = {}     # id -> (original kept alive, prepared)
    for request in requests:
        images = []
        for img in request.images:
            if id(img) not in done:
                done[id(img)] = (img, prepare(replace(request, images=[img])).images[0])
            images.append(done[id(img)][1])
        prepared = replace(request, images=images, variations=1)
        out += [prepared] * max(1, request.variations)
    return out


def estimate(requests: list[GenerationRequest]) -> float | None:
    """USD at the batch price for these requests (variations included), None if unknown."""
    total = 0.0
    for r in requests:
        cost = models.estimate_cost(r.model, r.image_size, max(1, r.variations), len(r.images))
        if cost is None:
            return None
        total += cost
    return models.batch_price(total)


def _sdk(config: ClientConfig) -> tuple[GeminiClient, Any]:
    client = GeminiClient(config)
    return client, client._client()


# ---------------------------------------------------------------- submit
def submit(config: ClientConfig, requests: list[GenerationRequest], store: BatchStore, *,
           display_name: str = "", blend_file: str = "") -> BatchRecord:
    """Send `requests` (variations expanded) as one batch and record it. One model per
    batch (the Batch API runs a batch on one model)."""
    if not requests:
        raise errors.no_prompt()
    model = requests[0].model
    if any(r.model != model for r in requests):
        raise errors.InvalidInput("A batch runs on one model: send each model's requests "
                                  "as a batch of its own.")
    estimate_usd = estimate(requests)
    singles = expand(requests)
    keys = [f"r{n:04d}" for n in range(1, len(singles) + 1)]
    bodies = [wire.to_rest(r) for r in singles]
    size = sum(len(json.dumps(b)) for b in bodies)
    if size > FILE_LIMIT:
        raise errors.batch_too_large(size / 1e6)
    display_name = display_name or f"nanobanana {time.strftime('%Y-%m-%d %H:%M')} ({len(singles)})"
    client, sdk = _sdk(config)
    try:
        from google.genai import types
        job_config = types.CreateBatchJobConfig(display_name=display_name)
        if size <= INLINE_LIMIT:
            src: Any = [types.InlinedRequest(contents=[wire.to_content(t) for t in
                                                       [*r.history, wire.user_turn(r)]],
                                             config=wire.to_config(r), metadata={"key": k})
                        for k, r in zip(keys, singles, strict=True)]
            source, input_file = "inline", ""
        else:
            input_file = _upload_jsonl(sdk, store, keys, bodies, display_name)
            src, source = input_file, "file"
        job = sdk.batches.create(model=model, src=src, config=job_config)
    except errors.NanoBananaError:
        raise
    except Exception as exc:  # noqa: BLE001 - typed by the client's classifier
        raise client.classify(exc, model) from None
    finally:
        client.close()
    now = time.time()
    record = BatchRecord(name=str(job.name), model=model, display_name=display_name,
                         created_ts=now, updated_ts=now, state=short_state(job.state),
                         source=source, input_file=input_file, blend_file=blend_file,
                         items=[_item(k, r, store) for k, r in zip(keys, singles, strict=True)],
                         estimate_usd=estimate_usd)
    store.put(record)
    return record


def _upload_jsonl(sdk: Any, store: BatchStore, keys: list[str], bodies: list[dict],
                  display_name: str) -> str:
    """One JSONL line per request ({"key", "request"}), sent through the Files API."""
    path = store.root / f".batch-{os.getpid()}-{time.monotonic_ns()}.jsonl"
    try:
        store.root.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            for key, body in zip(keys, bodies, strict=True):
                fh.write(json.dumps({"key": key, "request": body}, separators=(",", ":")) + "\n")
        uploaded = sdk.files.upload(file=str(path), config={"mime_type": "application/jsonl",
                                                            "display_name": display_name})
        return str(uploaded.name)
    finally:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------- poll and fetch
@dataclass
class FetchReport:
    record: BatchRecord
    outcomes: list[Outcome] = field(default_factory=list)   # results saved by this call
    # requests that failed (saved to history as failures), with why
    failures: list[tuple[GenerationRequest, errors.NanoBananaError]] = field(default_factory=list)
    changed: bool = False                                   # state or saved results changed


def refresh(config: ClientConfig, store: BatchStore, name: str, history: History | None = None,
            *, save: bool = True) -> FetchReport:
    """Ask for the state of one batch; once it has ended, save every answer not saved yet
    (`save=False`: only the state)."""
    record = store.get(name)
    if record is None:
        raise errors.batch_unknown(name)
    report = FetchReport(record)
    if record.fetched:
        return report
    client, sdk = _sdk(config)
    try:
        try:
            job = sdk.batches.get(name=record.name)
        except Exception as exc:  # noqa: BLE001 - typed below
            err = client.classify(exc, record.model)
            if getattr(exc, "code", 0) == 404:       # nothing more will come: stop asking
                err = errors.batch_gone(record.display_name or record.id)
                record.fetched = True
                record.missing = [it["key"] for it in record.items if it["key"] not in record.saved]
            record.error = str(err)
            store.put(record)
            raise err from None
        state = short_state(job.state)
        report.changed = state != record.state or bool(record.error)
        record.state, record.updated_ts, record.error = state, time.time(), ""
        if record.ended and save:
            answers = _answers(sdk, job)
            _save_answers(record, answers, store, history or History(store.root), report)
            record.missing = [it["key"] for it in record.items if it["key"] not in record.saved]
            record.fetched = True
            report.changed = True
        store.put(record)
    finally:
        client.close()
    if record.fetched:
        store.collect_inputs()
    return report


def _answers(sdk: Any, job: Any) -> list[tuple[str | None, Any, Any]]:
    """(key, response, error) per answer, inline or from the result file."""
    dest = getattr(job, "dest", None)
    if dest is None:
        return []
    out: list[tuple[str | None, Any, Any]] = []
    if getattr(dest, "inlined_responses", None):
        for ans in dest.inlined_responses:
            key = (ans.metadata or {}).get("key") if isinstance(ans.metadata, dict) else None
            out.append((key, ans.response, ans.error))
    elif getattr(dest, "file_name", None):
        from google.genai import types
        data = sdk.files.download(file=dest.file_name)
        for line in bytes(data).decode("utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            resp = row.get("response")
            out.append((row.get("key"), types.GenerateContentResponse.model_validate_json(
                json.dumps(resp)) if resp is not None else None, row.get("error")))
    return out


def _save_answers(record: BatchRecord, answers: list[tuple[str | None, Any, Any]],
                  store: BatchStore, history: History, report: FetchReport) -> None:
    items = {it["key"]: it for it in record.items}
    order = [it["key"] for it in record.items]
    meta = {"name": record.name, "state": record.state, "price_factor": models.BATCH_PRICE_FACTOR}
    for index, (key, response, error) in enumerate(answers):
        key = key if key in items else (order[index] if index < len(order) else None)
        if key is None or key in record.saved:
            continue                      # unknown, or saved by an earlier fetch
        request = request_of(record, items[key], store)
        extra = {"batch": {**meta, "key": key}}
        try:
            if error is not None or response is None:
                raise errors.batch_item_failed(_get(error, "message"), int(_get(error, "code") or 0))
            result = wire.from_response(response, request)
        except errors.NanoBananaError as exc:
            entry = history.record(request, error=exc, blend_file=record.blend_file, extra=extra)
            record.saved[key], record.failed[key] = [entry.id], {"kind": exc.kind, "message": str(exc)}
            report.failures.append((request, exc))
        else:
            result.turns = [*request.history, wire.user_turn(request), *result.turns]
            result.cost_usd = models.batch_price(result.cost_usd)
            entries = [history.record(request, result=result, image_index=i,
                                      blend_file=record.blend_file, extra=extra)
                       for i in range(len(result.images))]
            record.saved[key] = [e.id for e in entries]
            record.cost_usd = round(record.cost_usd + (result.cost_usd or 0.0), 4)
            report.outcomes.append(Outcome(request, [result], list(entries), warnings=result.warnings))
        store.put(record)                 # each answer once, even if Blender quits half-way


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def saved_outcomes(record: BatchRecord, store: BatchStore, history: History | None = None,
                   ) -> list[Outcome]:
    """The batch's results already in history, rebuilt from it (images read from disk, no
    cost: it was counted when they were saved), in request order. Entries deleted from
    history since are left out."""
    from .request import GenerationResult, OutputImage
    history = history or History(store.root)
    out = []
    for item in record.items:
        key = item["key"]
        if key in record.failed or key not in record.saved:
            continue
        request = request_of(record, item, store)
        entries, images = [], []
        for entry_id in record.saved[key]:
            entry = history.get(entry_id)
            path = entry.image_path if entry is not None else None
            if entry is None or path is None:
                continue
            m = entry.meta
            images.append(OutputImage(path.read_bytes(), m.get("mime_type") or "image/png",
                                      int(m.get("width") or 0), int(m.get("height") or 0)))
            entries.append(entry)
        if images:
            result = GenerationResult(model=record.model, images=images, text=entries[0].meta.get("text") or "")
            out.append(Outcome(request, [result], list(entries)))
    return out


def refresh_all(config: ClientConfig, store: BatchStore, history: History | None = None,
                ) -> tuple[list[FetchReport], list[errors.NanoBananaError]]:
    """refresh() every batch not fetched yet; one failing batch does not stop the others."""
    reports, failures = [], []
    for record in store.load():
        if record.fetched:
            continue
        try:
            reports.append(refresh(config, store, record.name, history))
        except errors.NanoBananaError as exc:
            failures.append(exc)
    return reports, failures


def cancel(config: ClientConfig, store: BatchStore, name: str) -> BatchRecord:
    """Ask Gemini to stop the batch. Finished requests stay fetchable (refresh)."""
    record = store.get(name)
    if record is None:
        raise errors.batch_unknown(name)
    if record.ended:
        return record
    client, sdk = _sdk(config)
    try:
        sdk.batches.cancel(name=record.name)
    except Exception as exc:  # noqa: BLE001 - typed by the client's classifier
        raise client.classify(exc, record.model) from None
    finally:
        client.close()
    return record
