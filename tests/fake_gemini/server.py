"""The fake Gemini API server: a real HTTP/1.1 server on 127.0.0.1 (random
port, one thread per connection, keep-alive) that answers
``POST /{v1beta|v1|v1alpha}/models/{model}:generateContent`` (and
``:streamGenerateContent``, ``GET .../models[/{model}]``) like Google does.

Owns: FakeGemini (start/close/script/reset, recorded requests, issued thought
signatures), the request handler (auth, routing, body reading, recording) and
the ``_Ctx`` object behaviours answer through. Validation lives in
validate.py, answers in responses.py, the model table in models.py.
Standard library only.
"""
from __future__ import annotations

import base64
import json
import os
import re
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from . import responses as R
from .models import LIVE_IDS, MODELS, ModelSpec, generic_spec
from .validate import DEFAULT_MAX_REQUEST_BYTES, Invalid, b64decode_any, validate_generate

_GEN_RE = re.compile(r"^/(v1beta|v1|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)$")
_MODEL_RE = re.compile(r"^/(v1beta|v1|v1alpha)/models/([^/:]+)$")
_LIST_RE = re.compile(r"^/(v1beta|v1|v1alpha)/models$")
_READ_KEEP = 64 * 1024 * 1024   # bytes of an over-limit body kept in Recorded.raw


@dataclass(repr=False)
class Recorded:
    """One HTTP request the fake received (recorded before it is answered)."""
    number: int
    method: str
    path: str                       # full request target, query included
    query: dict                     # parsed query string (name -> list of values)
    headers: dict                   # lower-case names
    raw: bytes
    body: object = None             # parsed JSON or None
    api_version: str | None = None
    model: str | None = None
    action: str | None = None       # generateContent / streamGenerateContent / get / list
    key_in_url: bool = False
    status: int | None = None       # HTTP status answered (None: hang/reset/no answer)
    response: object = None         # parsed JSON answered, or None
    behaviour: str | None = None    # name of the scripted behaviour used
    error: str | None = None        # validation / auth message when rejected by the fake
    seed: int | None = None         # pattern seed of the first returned image
    seeds: list = field(default_factory=list)
    image_size: tuple | None = None  # (w, h) of returned images
    received_at: float = 0.0
    client: tuple | None = None      # (host, port) of the TCP connection (keep-alive checks)
    answered: threading.Event = field(default_factory=threading.Event)

    def __repr__(self) -> str:
        return ("<Recorded #%d %s %s model=%s status=%s behaviour=%s>"
                % (self.number, self.method, self.path, self.model, self.status, self.behaviour))


class SignatureSet(set):
    """Snapshot of issued thoughtSignature strings. ``sig in s`` also matches
    the same bytes written in the other base64 alphabet or without padding:
    the SDK decodes signatures to bytes and sends them back URL-safe encoded."""

    def __contains__(self, item) -> bool:
        if set.__contains__(self, item):
            return True
        raw = b64decode_any(item)
        return raw is not None and any(b64decode_any(s) == raw for s in self)


class _Ctx:
    """What a behaviour answers through (see responses.py)."""

    def __init__(self, handler, record: Recorded, spec=None):
        self.h, self.record, self.spec = handler, record, spec
        self.fake = handler.server.fake
        self.model, self.api_version = record.model, record.api_version
        self.number, self.info = record.number, None
        self.image_scale = self.fake.image_scale
        self.stream = record.action == "streamGenerateContent"
        self.sse = self.stream and "sse" in record.query.get("alt", [])
        self.sent = False

    def issue_signature(self) -> str:
        return self.fake._issue_signature()

    def response_id(self) -> str:
        return base64.urlsafe_b64encode(os.urandom(15)).decode("ascii")

    def send_json(self, status: int, obj) -> None:
        self.record.response = obj
        if status == 200 and self.stream:
            if self.sse:
                data = b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\r\n\r\n"
                return self.send_raw(status, "text/event-stream", data, _parsed=True)
            data = json.dumps([obj], indent=2).encode()
        else:
            data = json.dumps(obj, indent=2).encode()
        self.send_raw(status, "application/json; charset=UTF-8", data, _parsed=True)

    def render(self, behaviour) -> tuple:
        """Run ``behaviour`` without sending: (status, content_type, body) it would send."""
        self._captured = None
        behaviour.respond(self)
        captured, self._captured = self._captured, False
        if captured is None:
            raise RuntimeError("%r sent no answer to render" % (behaviour,))
        self.sent = False
        return captured

    def send_head(self, status, content_type, content_length) -> bool:
        """Send the status line and headers only (the body follows with send_part)."""
        h = self.h
        self.record.status = status
        self.sent = True
        try:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Vary", "Origin, X-Origin, Referer")
            h.send_header("Content-Length", str(content_length))
            h.end_headers()
            h.wfile.flush()
            return True
        except OSError:
            h.close_connection = True
            return False

    def send_part(self, data: bytes) -> bool:
        """Write part of a body announced by send_head. False if the client is gone."""
        try:
            self.h.wfile.write(data)
            self.h.wfile.flush()
            return True
        except OSError:
            self.h.close_connection = True
            return False

    def send_raw(self, status, content_type, body: bytes, content_length=None, close=False, _parsed=False):
        h = self.h
        if getattr(self, "_captured", False) is None:       # inside render(): keep, don't send
            self._captured = (status, content_type, bytes(body))
            self.sent = True
            return
        if not _parsed:
            self.record.response = None
        self.record.status = status
        self.sent = True
        try:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Vary", "Origin, X-Origin, Referer")
            h.send_header("Content-Length", str(len(body) if content_length is None else content_length))
            if close:
                h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(body)
            h.wfile.flush()
        except OSError:
            h.close_connection = True
        if close:
            h.close_connection = True
        self.record.answered.set()

    def wait(self, seconds) -> bool:
        """Sleep ``seconds`` (None = forever). False if interrupted by close()
        or by the client going away."""
        if seconds is not None and seconds <= 0:
            return not self.fake._stopping.is_set()
        deadline = None if seconds is None else time.monotonic() + seconds
        sock = self.h.connection
        while True:
            left = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
            if left <= 0:
                return True
            if self.fake._stopping.wait(left):
                return False
            try:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable and not sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                    return False
            except (OSError, ValueError):
                return False

    def drop_connection(self) -> None:
        """Close without answering (graceful FIN)."""
        self.h.close_connection = True
        self.sent = True
        self.record.answered.set()

    def reset_connection(self) -> None:
        """Close abruptly: SO_LINGER 0 makes close() send a TCP RST."""
        h = self.h
        h.close_connection = True
        self.sent = True
        try:
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.rfile.close()
            h.connection.close()
        except OSError:
            pass
        self.record.answered.set()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "scaffolding on HTTPServer2"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        if self.server.fake.verbose:
            super().log_message(fmt, *args)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = lambda self: self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, kept = [], 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(size)
                self.rfile.readline(3)
                if kept < _READ_KEEP:
                    chunks.append(data)
                    kept += len(data)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        chunks, left = [], length
        while left > 0:
            data = self.rfile.read(min(left, 1 << 20))
            if not data:
                break
            left -= len(data)
            if length - left <= _READ_KEEP:
                chunks.append(data)
        return b"".join(chunks)

    def _dispatch(self):
        fake = self.server.fake
        split = urlsplit(self.path)
        path, query = unquote(split.path), parse_qs(split.query, keep_blank_values=True)
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = headers[k] + ", " + v if k in headers else v
        try:
            raw = self._read_body()
        except (OSError, ValueError):
            self.close_connection = True
            return
        rec = fake._record(self.command, self.path, query, headers, raw)
        rec.client = tuple(self.client_address[:2])
        try:
            rec.body = json.loads(raw) if raw.strip() else None
        except ValueError:
            rec.body = None
        m = _GEN_RE.match(path) if self.command == "POST" else None
        m = m or (_MODEL_RE.match(path) if self.command == "GET" else None)
        lm = _LIST_RE.match(path) if self.command == "GET" else None
        if m:
            rec.api_version, rec.model = m.group(1), m.group(2)
            rec.action = m.group(3) if m.lastindex == 3 else "get"
        elif lm:
            rec.api_version, rec.action = lm.group(1), "list"
        rec.key_in_url = "key" in query
        ctx = _Ctx(self, rec)
        try:
            if not ctx.wait(fake.latency):
                return ctx.drop_connection()
            self._route(ctx, rec, headers, query, raw, bool(m or lm))
        except Exception as exc:  # a bug in a behaviour: answer 500 so tests see it
            rec.error = "fake server error: %r" % (exc,)
            if not ctx.sent:
                ctx.send_json(500, R.server_error(500).body())
            else:
                self.close_connection = True
        finally:
            if not ctx.sent:
                ctx.drop_connection()
            rec.answered.set()

    def _route(self, ctx, rec, headers, query, raw, known):
        fake = self.server.fake
        if not known:
            body = ("<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 404 (Not Found)!!1</title>\n"
                    "  <p><b>404.</b> <ins>That\u2019s an error.</ins>\n  <p>The requested URL <code>%s</code> was not "
                    "found on this server.  <ins>That\u2019s all we know.</ins>\n" % urlsplit(self.path).path)
            rec.error = "unknown path"
            return ctx.send_raw(404, "text/html; charset=UTF-8", body.encode("utf-8"))
        key = headers.get("x-goog-api-key") or (query.get("key") or [""])[0]
        if not key:
            rec.error = "missing API key"
            return R.unregistered_caller().respond(ctx)
        if fake.api_key is not None and key != fake.api_key:
            rec.error = "wrong API key"
            return R.api_key_invalid().respond(ctx)
        if rec.action == "list":
            return ctx.send_json(200, fake._list_page(query))
        model = rec.model[len("models/"):] if rec.model.startswith("models/") else rec.model
        spec = fake.models.get(model)
        if spec is None:
            rec.error = "unknown model"
            return R.not_found(model).respond(ctx)
        ctx.spec = spec
        if rec.action == "get":
            return ctx.send_json(200, fake._model_json(spec))
        try:
            _, ctx.info = validate_generate(raw, spec, fake._is_issued, fake.max_request_bytes, fake.strict_images)
        except Invalid as bad:
            rec.error = str(bad)
            return bad.behaviour.respond(ctx)
        behaviour = fake._next_behaviour()
        rec.behaviour = behaviour.name
        behaviour.respond(ctx)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 64

    def __init__(self, addr, fake):
        self.fake = fake
        self.conn_lock = threading.Lock()
        self.conns, self.threads, self.closed = set(), set(), False
        super().__init__(addr, _Handler)

    def process_request(self, request, client_address):
        t = threading.Thread(target=self._run, args=(request, client_address), daemon=True,
                             name="fake-gemini-conn")
        with self.conn_lock:
            if self.closed:
                self.shutdown_request(request)
                return
            self.conns.add(request)
            self.threads.add(t)
        t.start()

    def _run(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:
            if self.fake.verbose:
                self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self.conn_lock:
                self.conns.discard(request)
                self.threads.discard(threading.current_thread())

    def handle_error(self, request, client_address):
        if self.fake.verbose:
            super().handle_error(request, client_address)


class FakeGemini:
    """A started fake Gemini server. See the package docstring for the API."""

    def __init__(self, api_key="test-key", latency=0.0, extra_models=None, live=None, image_scale=1.0,
                 host="127.0.0.1", port=0, max_request_bytes=DEFAULT_MAX_REQUEST_BYTES,
                 strict_images=True, verbose=False):
        self.api_key = api_key              # None: any non-empty key is accepted
        self.latency = float(latency)
        self.image_scale = float(image_scale)
        self.max_request_bytes = int(max_request_bytes)
        self.strict_images = strict_images
        self.verbose = verbose
        self.default_behaviour = None       # None -> R.image()
        # Served ids: today's live ones (or `live`), plus `extra_models`; any other id,
        # retired ones included, answers 404 NOT_FOUND like Google does.
        self.models = {i: MODELS[i] if i in MODELS else generic_spec(i) for i in (live or LIVE_IDS)}
        for m in extra_models or ():
            spec = m if isinstance(m, ModelSpec) else generic_spec(str(m))
            self.models[spec.id] = spec
        self.list_page_size = 50            # models.list pages like the real API: default
        self.list_max_page_size = 1000      # and largest pageSize
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue, self._requests, self._counter = [], [], 0
        self._sigs, self._sig_bytes, self._sig_counter = set(), set(), 0
        self._stopping = threading.Event()
        self._closed = False
        self._httpd = _Server((host, port), self)
        self.host, self.port = self._httpd.server_address[:2]
        self.url = "http://%s:%d" % (self.host, self.port)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="fake-gemini-accept")
        self._thread.start()

    # ---- scripting -------------------------------------------------------
    def script(self, *behaviours) -> "FakeGemini":
        """Queue behaviours; each valid generateContent request consumes one."""
        flat = []
        for b in behaviours:
            flat.extend(b if isinstance(b, (list, tuple)) else [b])
        for b in flat:
            if not hasattr(b, "respond"):
                raise TypeError("not a behaviour: %r" % (b,))
        with self._lock:
            self._queue.extend(flat)
        return self

    @property
    def pending(self) -> int:
        """Scripted behaviours not consumed yet."""
        with self._lock:
            return len(self._queue)

    def _next_behaviour(self):
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
        return self.default_behaviour or R.image()

    # ---- recording -------------------------------------------------------
    def _record(self, method, path, query, headers, raw) -> Recorded:
        with self._cond:
            self._counter += 1
            rec = Recorded(number=self._counter, method=method, path=path, query=query,
                           headers=headers, raw=raw, received_at=time.time())
            self._requests.append(rec)
            self._cond.notify_all()
        return rec

    @property
    def requests(self) -> list:
        with self._lock:
            return list(self._requests)

    @property
    def generate_requests(self) -> list:
        """Only the generateContent / streamGenerateContent requests."""
        return [r for r in self.requests if r.action in ("generateContent", "streamGenerateContent")]

    def wait_for_requests(self, n, timeout=5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self._requests) >= n, timeout)

    def reset(self) -> None:
        """Clear the script queue and the recorded requests (signatures stay valid)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._counter = 0

    # ---- thought signatures ---------------------------------------------
    def _issue_signature(self) -> str:
        with self._lock:
            self._sig_counter += 1
            raw = b"fake-gemini-sig:" + self._sig_counter.to_bytes(8, "big") + os.urandom(42)
            sig = base64.b64encode(raw).decode("ascii")
            self._sigs.add(sig)
            self._sig_bytes.add(raw)
        return sig

    def _is_issued(self, sig) -> bool:
        raw = b64decode_any(sig)
        with self._lock:
            return raw is not None and raw in self._sig_bytes

    @property
    def issued_signatures(self) -> SignatureSet:
        with self._lock:
            return SignatureSet(self._sigs)

    def _list_page(self, query) -> dict:
        """One page of models.list: pageSize (capped at 1000) and pageToken as Google pages."""
        try:
            size = int((query.get("pageSize") or [self.list_page_size])[0]) or self.list_page_size
            size = min(self.list_max_page_size, size)
            start = int((query.get("pageToken") or ["0"])[0] or 0)
        except ValueError:
            size, start = self.list_page_size, 0
        specs = list(self.models.values())
        page = {"models": [self._model_json(s) for s in specs[start:start + size]]}
        if start + size < len(specs):
            page["nextPageToken"] = str(start + size)
        return page

    def _model_json(self, spec) -> dict:
        return {"name": "models/" + spec.id, "version": "001", "displayName": spec.display_name or spec.id,
                "description": "Fake Gemini image model", "inputTokenLimit": 65536 if spec.thinking else 32768,
                "outputTokenLimit": 32768, "supportedGenerationMethods":
                    ["generateContent", "countTokens", "batchGenerateContent"],
                "temperature": 1, "topP": 0.95, "maxTemperature": 2, "thinking": spec.thinking}

    # ---- lifecycle -------------------------------------------------------
    def close(self, timeout=1.0) -> None:
        """Stop serving, close every socket, join all threads. Idempotent."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + timeout
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._httpd.conn_lock:
            self._httpd.closed = True
            conns, threads = list(self._httpd.conns), list(self._httpd.threads)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in threads + [self._thread]:
            t.join(max(0.0, deadline - time.monotonic()))
        for c in conns:
            try:
                c.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<FakeGemini %s%s>" % (self.url, " closed" if self._closed else "")
