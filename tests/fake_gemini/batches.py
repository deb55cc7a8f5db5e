"""Batch API and Files API of the fake Gemini server, shaped like Google's v1beta REST API
(what google-genai 3.4's `client.batches` and `client.files` send and read):

    POST   /{v}/models/{model}:batchGenerateContent  {"batch": {"displayName", "inputConfig":
           {"requests": {"requests": [{"request": GenerateContentRequest, "metadata": {..}}]}}
            or {"fileName": "files/ID"}}}            -> Operation "batches/ID"
    GET    /{v}/batches/ID     -> Operation: metadata (GenerateContentBatch: state
                                  BATCH_STATE_*, batchStats, output once ended), done, response
    GET    /{v}/batches        -> {"operations": [...], "nextPageToken"}
    POST   /{v}/batches/ID:cancel -> {}          DELETE /{v}/batches/ID -> {}
    POST   /upload/{v}/files   resumable start (X-Goog-Upload-Command: start) -> x-goog-upload-url
    POST   /upload/{v}/files?upload_id=U  X-Goog-Upload-Command: upload[, finalize] -> status
    GET    /{v}/files/ID       -> File           GET /{v}/files/ID:download?alt=media -> bytes

States move over time: PENDING for `fake.batch_pending_s`, RUNNING for
`fake.batch_running_s` (None: until a test moves it), then SUCCEEDED. Each request is
validated like a generateContent body and answered by the next scripted behaviour (the same
queue as generateContent, in request order, when the batch is created); answers are
revealed as the batch runs (request i is done after (i+1)/n of the running time). An
invalid request or an Error behaviour becomes that request's `error` (partial failure).
Cancel keeps the done requests' answers; `fake.expire_batch` / `fail_batch` /
`finish_batch(done=k)` move a batch by hand. Results come back inline for inline batches
and as a generated JSONL file (`responsesFile`) for file batches.
"""
from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field

from . import responses as R
from .validate import Invalid, validate_generate

_CREATE_RE = re.compile(r"^/(v1beta|v1|v1alpha)/models/([^/:]+):batchGenerateContent$")
_BATCH_RE = re.compile(r"^/(v1beta|v1|v1alpha)/batches/([^/:]+)(:cancel)?$")
_BATCHES_RE = re.compile(r"^/(v1beta|v1|v1alpha)/batches$")
_UPLOAD_RE = re.compile(r"^/upload/(v1beta|v1|v1alpha)/files$")
_FILE_RE = re.compile(r"^/(v1beta|v1|v1alpha)/files/([^/:]+)(:download)?$")
_TYPE = "type.googleapis.com/google.ai.generativelanguage.%s.%s"
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "EXPIRED")
# HTTP status -> google.rpc.Code of a per-request error
RPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 429: 8, 499: 1, 500: 13, 501: 12,
             503: 14, 504: 4}


def match(method: str, path: str):
    """(api_version, action, ident) for a batch / file route, else None."""
    m = _CREATE_RE.match(path)
    if m and method == "POST":
        return m.group(1), "batchGenerateContent", m.group(2)
    m = _BATCH_RE.match(path)
    if m:
        if m.group(3) and method == "POST":
            return m.group(1), "batches.cancel", m.group(2)
        if not m.group(3) and method in ("GET", "DELETE"):
            return m.group(1), "batches.get" if method == "GET" else "batches.delete", m.group(2)
    m = _BATCHES_RE.match(path)
    if m and method == "GET":
        return m.group(1), "batches.list", None
    m = _UPLOAD_RE.match(path)
    if m and method == "POST":
        return m.group(1), "files.upload", None
    m = _FILE_RE.match(path)
    if m and method == "GET":
        return m.group(1), "files.download" if m.group(3) else "files.get", m.group(2)
    return None


def _rfc3339(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%06dZ" % int((ts % 1) * 1e6)


@dataclass
class BatchItem:
    key: str | None                 # the request's key (file) or metadata.key (inline)
    metadata: dict | None
    request: dict                   # the GenerateContentRequest as received
    response: dict | None = None    # the answer, or
    error: dict | None = None       # google.rpc.Status of a failed request
    behaviour: str | None = None


@dataclass
class Batch:
    id: str
    model: str
    display_name: str
    source: str                     # "inline" or "file"
    items: list[BatchItem]
    created: float = field(default_factory=time.time)
    pending_s: float = 0.0
    running_s: float | None = 0.0
    forced: str | None = None       # CANCELLED / EXPIRED / FAILED / SUCCEEDED set by hand or cancel
    frozen_done: int | None = None  # requests done when it was forced
    ended_at: float | None = None
    result_file: str | None = None

    @property
    def name(self) -> str:
        return "batches/" + self.id

    def state(self, now: float | None = None) -> str:
        if self.forced:
            return self.forced
        now = time.time() if now is None else now
        if now < self.created + self.pending_s:
            return "PENDING"
        if self.running_s is None or now < self.created + self.pending_s + self.running_s:
            return "RUNNING"
        return "SUCCEEDED"

    def done(self, now: float | None = None) -> int:
        """Requests answered so far."""
        if self.frozen_done is not None:
            return self.frozen_done
        state = self.state(now)
        n = len(self.items)
        if state == "SUCCEEDED":
            return n
        if state != "RUNNING" or not self.running_s:
            return 0
        now = time.time() if now is None else now
        frac = (now - self.created - self.pending_s) / self.running_s
        return max(0, min(n, int(frac * n + 1e-9)))

    def force(self, state: str, done: int | None = None) -> None:
        if self.state() in TERMINAL:
            return
        self.frozen_done = self.done() if done is None else max(0, min(len(self.items), done))
        if state == "FAILED":
            self.frozen_done = 0
        self.forced, self.ended_at = state, time.time()


class BatchService:
    """The fake's batches and files (one per FakeGemini, thread-safe)."""

    def __init__(self, fake):
        self.fake = fake
        self.lock = threading.RLock()
        self.batches: dict[str, Batch] = {}
        self.files: dict[str, dict] = {}
        self.uploads: dict[str, dict] = {}

    def _id(self) -> str:
        return base64.b32encode(os.urandom(10)).decode("ascii").lower().rstrip("=")

    # ---- answering the requests of a batch ------------------------------
    def _answer(self, item: BatchItem, spec, number: int) -> None:
        raw = json.dumps(item.request).encode("utf-8")
        ctx = _CaptureCtx(self.fake, spec, number)
        try:
            _, ctx.info = validate_generate(raw, spec, self.fake._is_issued, self.fake.max_request_bytes,
                                            self.fake.strict_images)
        except Invalid as bad:
            item.behaviour = "invalid"
            bad.behaviour.respond(ctx)
        else:
            behaviour = self.fake._next_behaviour()
            item.behaviour = behaviour.name
            behaviour.respond(ctx)
        if ctx.status == 200 and isinstance(ctx.body, dict):
            item.response = ctx.body
        else:
            err = (ctx.body or {}).get("error", {}) if isinstance(ctx.body, dict) else {}
            status = int(err.get("code") or ctx.status or 500)
            item.error = {"code": RPC_CODES.get(status, 2),
                          "message": err.get("message") or "(fake) the request failed"}
            if err.get("details"):
                item.error["details"] = err["details"]

    # ---- JSON shapes ---------------------------------------------------
    def operation(self, b: Batch, version: str) -> dict:
        now = time.time()
        state = b.state(now)
        done = b.done(now)
        answered = b.items[:done]
        failed = sum(1 for it in answered if it.error is not None)
        meta = {"@type": _TYPE % (version, "GenerateContentBatch"), "model": "models/" + b.model,
                "displayName": b.display_name, "createTime": _rfc3339(b.created),
                "updateTime": _rfc3339(now), "name": b.name,
                "batchStats": {"requestCount": str(len(b.items)),
                               "successfulRequestCount": str(done - failed),
                               "failedRequestCount": str(failed),
                               "pendingRequestCount": str(len(b.items) - done)},
                "state": "BATCH_STATE_" + state}
        op = {"name": b.name, "metadata": meta}
        if state in TERMINAL:
            ended = b.ended_at or (b.created + b.pending_s + (b.running_s or 0.0))
            meta["endTime"] = _rfc3339(ended)
            op["done"] = True
            if state == "FAILED":
                op["error"] = {"code": 13, "message": "(fake) the batch failed as a whole."}
                return op
            if b.source == "file":
                output = {"responsesFile": self._result_file(b, answered)}
            else:
                output = {"inlinedResponses": {"inlinedResponses": [self._inline(it) for it in answered]}}
            meta["output"] = output
            op["response"] = {"@type": _TYPE % (version, "GenerateContentBatchOutput"), **output}
        return op

    @staticmethod
    def _inline(item: BatchItem) -> dict:
        out: dict = {"error": item.error} if item.error is not None else {"response": item.response}
        if item.metadata is not None:
            out["metadata"] = item.metadata
        return out

    def _result_file(self, b: Batch, answered: list[BatchItem]) -> str:
        with self.lock:
            if b.result_file is None:
                lines = []
                for it in answered:
                    row: dict = {"key": it.key}
                    row.update({"error": it.error} if it.error is not None else {"response": it.response})
                    lines.append(json.dumps(row, separators=(",", ":")))
                data = ("\n".join(lines) + "\n").encode("utf-8")
                fid = "batch-" + b.id
                self.files[fid] = self._file_json(fid, "application/jsonl", data, "GENERATED",
                                                  b.display_name + " results")
                b.result_file = "files/" + fid
            return b.result_file

    def _file_json(self, fid: str, mime: str, data: bytes, source: str, display: str = "") -> dict:
        now = _rfc3339(time.time())
        return {"name": "files/" + fid, "displayName": display, "mimeType": mime,
                "sizeBytes": str(len(data)), "createTime": now, "updateTime": now,
                "expirationTime": _rfc3339(time.time() + 48 * 3600),
                "sha256Hash": base64.b64encode(os.urandom(32)).decode("ascii"),
                "uri": "%s/v1beta/files/%s" % (self.fake.url, fid), "state": "ACTIVE",
                "source": source, "_data": data}

    @staticmethod
    def _public(f: dict) -> dict:
        return {k: v for k, v in f.items() if not k.startswith("_")}

    # ---- routes --------------------------------------------------------
    def handle(self, ctx, rec, query, headers, raw) -> None:
        action = rec.action
        if action == "batchGenerateContent":
            return self._create(ctx, rec, raw)
        if action == "batches.list":
            with self.lock:
                ops = [self.operation(b, rec.api_version) for b in self.batches.values()]
            return ctx.send_json(200, {"operations": ops} if ops else {})
        if action == "files.upload":
            return self._upload(ctx, rec, query, headers, raw)
        if action in ("files.get", "files.download"):
            f = self.files.get(rec.model)
            if f is None:
                return R.error(404, "NOT_FOUND", "Requested entity was not found.").respond(ctx)
            if action == "files.get":
                return ctx.send_json(200, self._public(f))
            if f["source"] != "GENERATED":
                return R.invalid_argument("(fake) Only generated files can be downloaded.").respond(ctx)
            return ctx.send_raw(200, f["mimeType"], f["_data"])
        b = self.batches.get(rec.model)
        if b is None:
            return R.error(404, "NOT_FOUND", "Requested entity was not found.").respond(ctx)
        if action == "batches.get":
            return ctx.send_json(200, self.operation(b, rec.api_version))
        if action == "batches.cancel":
            with self.lock:
                b.force("CANCELLED")
            return ctx.send_json(200, {})
        if action == "batches.delete":
            with self.lock:
                self.batches.pop(b.id, None)
            return ctx.send_json(200, {})
        return None

    def _create(self, ctx, rec, raw) -> None:
        fake = self.fake
        model = rec.model[len("models/"):] if rec.model.startswith("models/") else rec.model
        spec = fake.models.get(model)
        if spec is None:
            rec.error = "unknown model"
            return R.not_found(model).respond(ctx)
        if len(raw) > fake.max_request_bytes:
            rec.error = "batch body over the limit"
            return R.invalid_argument("Request payload size exceeds the limit: %d bytes."
                                      % fake.max_request_bytes).respond(ctx)
        body = rec.body if isinstance(rec.body, dict) else {}
        batch = body.get("batch")
        cfg = batch.get("inputConfig") or batch.get("input_config") if isinstance(batch, dict) else None
        if not isinstance(cfg, dict):
            rec.error = "no batch.inputConfig"
            return R.invalid_argument("* BatchGenerateContentRequest.batch.input_config: input_config "
                                      "is not specified\n").respond(ctx)
        items: list[BatchItem] = []
        file_name = cfg.get("fileName") or cfg.get("file_name")
        if file_name:
            f = self.files.get(str(file_name).removeprefix("files/"))
            if f is None:
                rec.error = "unknown input file"
                return R.invalid_argument("(fake) Input file %s not found." % file_name).respond(ctx)
            for n, line in enumerate(f["_data"].decode("utf-8").splitlines()):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    rec.error = "bad JSONL"
                    return R.invalid_argument("(fake) Line %d of the input file is not JSON." % (n + 1)).respond(ctx)
                if not isinstance(row, dict) or not isinstance(row.get("request"), dict):
                    rec.error = "bad JSONL row"
                    return R.invalid_argument("(fake) Line %d has no \"request\"." % (n + 1)).respond(ctx)
                items.append(BatchItem(row.get("key"), None, row["request"]))
            source = "file"
        else:
            reqs = (cfg.get("requests") or {}).get("requests")
            if not isinstance(reqs, list) or not reqs:
                rec.error = "no requests"
                return R.invalid_argument("* BatchGenerateContentRequest.batch.input_config.requests: "
                                          "requests must not be empty\n").respond(ctx)
            for r in reqs:
                if not isinstance(r, dict) or not isinstance(r.get("request"), dict):
                    rec.error = "bad inline request"
                    return R.invalid_argument("(fake) Each inline request needs a \"request\".").respond(ctx)
                meta = r.get("metadata")
                key = meta.get("key") if isinstance(meta, dict) else None
                items.append(BatchItem(key, meta, r["request"]))
            source = "inline"
        for n, item in enumerate(items):
            self._answer(item, spec, rec.number * 1000 + n)
        with self.lock:
            b = Batch(self._id(), model, str(batch.get("displayName") or batch.get("display_name") or ""),
                      source, items, pending_s=fake.batch_pending_s, running_s=fake.batch_running_s)
            self.batches[b.id] = b
        rec.behaviour = "batch:%d" % len(items)
        ctx.send_json(200, self.operation(b, rec.api_version))

    def _upload(self, ctx, rec, query, headers, raw) -> None:
        command = (headers.get("x-goog-upload-command") or "").lower()
        uid = (query.get("upload_id") or [""])[0]
        if "start" in command:
            meta = (rec.body or {}).get("file") or {}
            size = int(headers.get("x-goog-upload-header-content-length") or 0)
            uid = self._id()
            with self.lock:
                self.uploads[uid] = {"meta": meta, "size": size, "data": bytearray(),
                                     "mime": headers.get("x-goog-upload-header-content-type")
                                     or meta.get("mimeType") or "application/octet-stream"}
            url = "%s/upload/%s/files?upload_id=%s&upload_protocol=resumable" % (
                self.fake.url, rec.api_version, uid)
            return ctx.send_headers_json(200, {}, {"x-goog-upload-url": url,
                                                   "x-goog-upload-status": "active",
                                                   "x-goog-upload-chunk-granularity": "8388608"})
        up = self.uploads.get(uid)
        if up is None:
            return R.error(404, "NOT_FOUND", "(fake) Unknown upload session.").respond(ctx)
        offset = int(headers.get("x-goog-upload-offset") or 0)
        if offset != len(up["data"]):
            return R.invalid_argument("(fake) Upload offset %d, expected %d." % (offset, len(up["data"]))).respond(ctx)
        up["data"] += raw
        if "finalize" not in command:
            return ctx.send_headers_json(200, {}, {"x-goog-upload-status": "active"})
        data = bytes(up["data"])
        if up["size"] and up["size"] != len(data):
            return R.invalid_argument("(fake) Uploaded %d bytes, announced %d." % (len(data), up["size"])).respond(ctx)
        fid = self._id()
        f = self._file_json(fid, up["mime"], data, "UPLOADED", up["meta"].get("displayName") or "")
        with self.lock:
            self.files[fid] = f
            self.uploads.pop(uid, None)
        ctx.send_headers_json(200, {"file": self._public(f)}, {"x-goog-upload-status": "final"})


class _CaptureCtx:
    """A behaviour's ctx that keeps the answer instead of writing it to a socket."""

    def __init__(self, fake, spec, number):
        self.fake, self.spec, self.model, self.api_version = fake, spec, spec.id, "v1beta"
        self.number, self.info = number, None
        self.image_scale = fake.image_scale
        self.stream = self.sse = False
        self.record = _Scratch()
        self.status, self.body, self.sent = None, None, False

    def issue_signature(self) -> str:
        return self.fake._issue_signature()

    def response_id(self) -> str:
        return base64.urlsafe_b64encode(os.urandom(15)).decode("ascii")

    def send_json(self, status, obj) -> None:
        self.status, self.body, self.sent = status, obj, True

    def send_raw(self, status, content_type, body, content_length=None, close=False, _parsed=False):
        self.status, self.body, self.sent = 500, {"error": {
            "code": 500, "message": "(fake) the request's answer was not JSON"}}, True

    def wait(self, seconds) -> bool:
        return True

    def drop_connection(self) -> None:
        self.send_raw(500, "", b"")

    reset_connection = drop_connection


class _Scratch:
    seed = None
    seeds: list = []
    image_size = None

