"""The transport to Gemini through google-genai (imported lazily, on first use).

Sends a GenerationRequest (converted by `wire`) and hands the answer back to `wire` to
become GenerationResults or a typed error from `errors`:
- one overall deadline per request (`timeout_s`, the Timeout preference) covering every
  attempt and wait: a server that trickles its answer cannot stretch it (the SDK's own
  timeout applies to each socket read). At the deadline the call's socket is shut down,
  so its helper thread ends too;
- retries 429 / 5xx / dropped connections with backoff, honouring the server's RetryInfo
  delay up to a cap (our loop, not the SDK's, so it can be cancelled between attempts and
  can honour RetryInfo);
- runs each HTTP call on a helper thread so a cancel returns at once. Cancel stops the
  waiting, not the request: a paid answer that arrives later, before the deadline, is
  converted and handed to `on_late` on the helper thread (the pipeline saves it to
  history, marked cancelled);
- variations are independent requests sent in parallel.
The API key goes in the x-goog-api-key header (the SDK's way), never in a URL or a message.
"""
from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from . import errors, images, wire
from .keys import resolve_api_key
from .request import GenerationRequest, GenerationResult, Turn

BASE_URL_ENV = "GOOGLE_GEMINI_BASE_URL"


@dataclass(frozen=True)
class ClientConfig:
    api_key: str | None = None
    base_url: str | None = None          # else GOOGLE_GEMINI_BASE_URL, else Google
    timeout_s: float = 180.0             # overall deadline of one request, retries included
    attempts: int = 4                    # total tries for retryable failures
    backoff_s: float = 2.0               # first wait when the server gives no RetryInfo
    max_wait_s: float = 60.0             # longest single wait we accept before giving up
    vertex_project: str | None = None    # Vertex AI (application-default credentials)
    vertex_location: str | None = None


_ssl_context = None


def shared_ssl_context():
    """One TLS context for every job, built the way google-genai builds its own.

    google-genai creates two contexts per client (about 30 ms each: loading the trust
    store); jobs create a client each, so the context is made once and passed in."""
    global _ssl_context
    if _ssl_context is None:
        import ssl
        cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
        if cafile or capath:
            _ssl_context = ssl.create_default_context(cafile=cafile, capath=capath)
        else:
            try:
                import httpx2  # what google-genai uses when present (OS trust store)
                _ssl_context = httpx2.create_ssl_context()
            except ImportError:
                import certifi
                _ssl_context = ssl.create_default_context(cafile=certifi.where())
    return _ssl_context


def _exception_kinds(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


_local = threading.local()      # the _Call a helper thread is running, for the hook below


def _trace_call(request: Any) -> None:
    """httpx request hook (runs on the sending thread): let the _Call of this thread see
    the connections its request opens, through httpcore's public `trace` extension."""
    call = getattr(_local, "call", None)
    if call is not None:
        request.extensions["trace"] = call.trace


class _Call:
    """One SDK call on its helper thread: its answer, the sockets it opened (so the
    deadline can shut them), and whether the waiting thread has left it (cancel)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.response: Any = None
        self.error: BaseException | None = None
        self.streams: list[Any] = []
        self.abandoned = False          # nobody waits: a late answer goes to on_late
        self.aborted = False            # the deadline passed: sockets shut, answer ignored
        self.on_late: Callable[[Any], None] | None = None
        self.timer: threading.Timer | None = None

    def trace(self, event: str, info: dict) -> None:
        if event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            with self.lock:
                self.streams.append(info.get("return_value"))
                late = self.aborted
            if late:
                self.abort()

    def abort(self) -> None:
        """Shut the call's sockets: its blocked read returns at once and the thread ends."""
        with self.lock:
            self.aborted = True
            streams = list(self.streams)
        for stream in streams:
            try:
                stream.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
            except (AttributeError, OSError, ValueError):
                pass        # already closed (or detached by TLS: its TLS stream is listed)


class GeminiClient:
    def __init__(self, config: ClientConfig):
        self.config = config
        self._key = None if config.vertex_project else resolve_api_key(config.api_key)
        if not config.vertex_project and not self._key:
            raise errors.missing_key()
        self._sdk: Any = None
        self._lock = threading.Lock()
        self._inflight = 0          # helper threads still running (maybe after a cancel)
        self._closing = False       # close() was called: the last helper closes the SDK

    # ------------------------------------------------------------ SDK plumbing
    def _client(self):
        with self._lock:
            if self._sdk is None:
                from google import genai
                from google.genai import types
                base = self.config.base_url or os.environ.get(BASE_URL_ENV) or None
                ctx = shared_ssl_context()
                # One connection per call (no keep-alive: the pool lives one job anyway), so
                # the connection a call traces is the one the deadline shuts.
                try:
                    import httpx2 as httpx_lib
                except ImportError:
                    import httpx as httpx_lib  # type: ignore[no-redef]
                client_args = {"verify": ctx, "event_hooks": {"request": [_trace_call]},
                               "limits": httpx_lib.Limits(max_keepalive_connections=0)}
                http = types.HttpOptions(base_url=base, timeout=int(self.config.timeout_s * 1000),
                                         client_args=client_args,
                                         async_client_args={"verify": ctx, "ssl": ctx})
                if self.config.vertex_project:
                    self._sdk = genai.Client(vertexai=True, project=self.config.vertex_project,
                                             location=self.config.vertex_location or "global",
                                             http_options=http)
                else:
                    self._sdk = genai.Client(api_key=self._key, http_options=http)
            self._closing = False
            return self._sdk

    def close(self) -> None:
        """Close the SDK client; while a cancelled call may still be answered, the last
        helper thread closes it when it ends (at the latest at the deadline)."""
        with self._lock:
            self._closing = True
            if self._inflight:
                return
            sdk, self._sdk = self._sdk, None
        self._close_sdk(sdk)

    @staticmethod
    def _close_sdk(sdk: Any) -> None:
        if sdk is not None:
            try:
                sdk.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

    def _release(self) -> None:
        with self._lock:
            self._inflight -= 1
            sdk = None
            if self._closing and not self._inflight:
                sdk, self._sdk = self._sdk, None
        self._close_sdk(sdk)

    # ------------------------------------------------------------ public API
    def generate(self, request: GenerationRequest,
                 cancel: threading.Event | None = None,
                 on_late: Callable[[GenerationResult], None] | None = None) -> GenerationResult:
        """One image request, with retries, within `timeout_s` overall. Raises a
        NanoBananaError subclass. After a cancel, an answer that still arrives before the
        deadline is passed to `on_late` (on a helper thread) instead of being dropped."""
        cancel = cancel or threading.Event()
        images.check_total(len(i.data) for i in request.images)
        user = wire.user_turn(request)
        turns = [*request.history, user]
        started = time.monotonic()
        deadline = started + self.config.timeout_s
        attempt = 0

        def finish(result: GenerationResult) -> GenerationResult:
            result.turns = [*turns, *result.turns]
            result.elapsed_s = time.monotonic() - started
            result.attempts = attempt
            return result

        late = None
        if on_late is not None:
            def late(response: Any) -> None:
                on_late(finish(wire.from_response(response, request)))
        while True:
            attempt += 1
            if cancel.is_set():
                raise errors.cancelled()
            try:
                response = self._call(turns, request, cancel, deadline, late)
                result = wire.from_response(response, request)
            except errors.NanoBananaError as exc:
                if not exc.retryable or attempt >= self.config.attempts:
                    raise
                wait = exc.retry_after
                if wait is None:
                    wait = self.config.backoff_s * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
                if wait > self.config.max_wait_s or time.monotonic() + wait >= deadline:
                    raise
                if cancel.wait(wait):
                    raise errors.cancelled() from None
                continue
            return finish(result)

    def generate_variations(self, request: GenerationRequest,
                            cancel: threading.Event | None = None,
                            on_result: Callable[[GenerationResult], None] | None = None,
                            ) -> tuple[list[GenerationResult], list[errors.NanoBananaError]]:
        """`request.variations` parallel requests. Returns (results, errors)."""
        cancel = cancel or threading.Event()
        n = max(1, request.variations)
        results: list[GenerationResult] = []
        failures: list[errors.NanoBananaError] = []

        def one(_i: int) -> None:
            try:
                res = self.generate(replace(request, variations=1), cancel, on_late=on_result)
            except errors.NanoBananaError as exc:
                failures.append(exc)
                return
            if on_result is not None:
                on_result(res)
            results.append(res)

        if n == 1:
            one(0)
        else:
            with ThreadPoolExecutor(max_workers=min(n, 8), thread_name_prefix="nanobanana-var") as pool:
                list(pool.map(one, range(n)))
        if cancel.is_set():
            failures = [errors.cancelled()]
        return results, failures

    def list_models(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(id, display name, supported methods) of every model the key may use.
        One blocking call (paged by the SDK): run it off the main thread."""
        sdk = self._client()
        out = []
        try:
            for m in sdk.models.list(config={"page_size": 100}):
                name = str(getattr(m, "name", "") or "")
                out.append((name.removeprefix("models/"), str(getattr(m, "display_name", "") or ""),
                            tuple(getattr(m, "supported_actions", None) or ())))
        except Exception as exc:  # noqa: BLE001 - typed below
            raise self.classify(exc, "") from None
        return out

    # ------------------------------------------------------------ one HTTP call
    def _call(self, turns: list[Turn], request: GenerationRequest, cancel: threading.Event,
              deadline: float, on_late: Callable[[Any], None] | None = None):
        """Run the SDK call on a helper thread; return its answer, or raise as soon as it
        is cancelled or the deadline passes. A cancelled call keeps listening until the
        deadline and hands a late answer to `on_late`; a timed-out call is shut at once."""
        sdk = self._client()
        contents = [wire.to_content(t) for t in turns]
        config = wire.to_config(request)
        call = _Call()

        def run() -> None:
            _local.call = call
            response, error = None, None
            try:
                response = sdk.models.generate_content(model=request.model,
                                                       contents=contents, config=config)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                error = exc
            with call.lock:
                call.response, call.error = response, error
                late = call.on_late if call.abandoned and not call.aborted else None
                call.done.set()
            try:
                if call.timer is not None:
                    call.timer.cancel()
                if late is not None and error is None:
                    try:
                        late(response)
                    except Exception:  # noqa: BLE001 - a refusal or bad answer: nothing to keep
                        pass
            finally:
                _local.call = None
                self._release()

        with self._lock:
            self._inflight += 1
        try:
            threading.Thread(target=run, name="nanobanana-http", daemon=True).start()
        except BaseException:
            self._release()
            raise
        while not call.done.wait(0.05):
            if cancel.is_set():
                with call.lock:
                    if not call.done.is_set():
                        # Stop waiting, not listening: the answer may still come (and is
                        # billed); the helper keeps it until the deadline, then gives up.
                        call.abandoned, call.on_late = True, on_late
                        call.timer = threading.Timer(max(0.0, deadline - time.monotonic()),
                                                     call.abort)
                        call.timer.name, call.timer.daemon = "nanobanana-deadline", True
                        call.timer.start()
                        raise errors.cancelled()
                break
            if time.monotonic() >= deadline:
                with call.lock:
                    over = not call.done.is_set()
                    if over:
                        call.abandoned = True
                if over:
                    call.abort()
                    raise errors.timeout(self.config.timeout_s, request.model)
                break
        if call.error is not None:
            raise self.classify(call.error, request.model)
        return call.response

    def classify(self, exc: BaseException, model: str) -> errors.NanoBananaError:
        """Typed error for anything the SDK or the transport raised."""
        if isinstance(exc, errors.NanoBananaError):
            return exc
        kinds = _exception_kinds(exc)
        text = errors.redact(f"{type(exc).__name__}: {exc}", self._key)
        if "APIError" in kinds:
            err = errors.from_http(int(getattr(exc, "code", 0) or 0), str(getattr(exc, "status", "") or ""),
                                   str(getattr(exc, "message", "") or ""), getattr(exc, "details", None),
                                   model, self._key)
            if getattr(exc, "code", 0) == 504:
                err.retryable = True
            return err
        if "TimeoutException" in kinds or isinstance(exc, TimeoutError):
            return errors.timeout(self.config.timeout_s, model)
        if kinds & {"ConnectError", "TransportError", "RemoteProtocolError", "ReadError",
                    "NetworkError"} or isinstance(exc, ConnectionError):
            return errors.network(text)
        if "DefaultCredentialsError" in kinds:
            return errors.PermissionDenied("No Google Cloud credentials for Vertex AI. Run "
                                           "'gcloud auth application-default login' or clear "
                                           "the Vertex project in preferences.", detail=text)
        return errors.malformed(text)


