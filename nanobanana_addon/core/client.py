"""The transport to Gemini through google-genai (imported lazily, on first use).

Sends a GenerationRequest (converted by `wire`) and hands the answer back to `wire` to
become GenerationResults or a typed error from `errors`:
- retries 429 / 5xx / dropped connections with backoff, honouring the server's RetryInfo
  delay up to a cap (our loop, not the SDK's, so it can be cancelled between attempts and
  can honour RetryInfo);
- runs each HTTP call on a helper thread so a cancel returns at once, and a late answer
  from a cancelled call is dropped;
- variations are independent requests sent in parallel.
The API key goes in the x-goog-api-key header (the SDK's way), never in a URL or a message.
"""
from __future__ import annotations

import os
import random
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
    timeout_s: float = 180.0             # per HTTP attempt
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


class GeminiClient:
    def __init__(self, config: ClientConfig):
        self.config = config
        self._key = None if config.vertex_project else resolve_api_key(config.api_key)
        if not config.vertex_project and not self._key:
            raise errors.missing_key()
        self._sdk: Any = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ SDK plumbing
    def _client(self):
        with self._lock:
            if self._sdk is None:
                from google import genai
                from google.genai import types
                base = self.config.base_url or os.environ.get(BASE_URL_ENV) or None
                ctx = shared_ssl_context()
                http = types.HttpOptions(base_url=base, timeout=int(self.config.timeout_s * 1000),
                                         client_args={"verify": ctx},
                                         async_client_args={"verify": ctx, "ssl": ctx})
                if self.config.vertex_project:
                    self._sdk = genai.Client(vertexai=True, project=self.config.vertex_project,
                                             location=self.config.vertex_location or "global",
                                             http_options=http)
                else:
                    self._sdk = genai.Client(api_key=self._key, http_options=http)
            return self._sdk

    def close(self) -> None:
        with self._lock:
            sdk, self._sdk = self._sdk, None
        if sdk is not None:
            try:
                sdk.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

    # ------------------------------------------------------------ public API
    def generate(self, request: GenerationRequest,
                 cancel: threading.Event | None = None) -> GenerationResult:
        """One image request, with retries. Raises a NanoBananaError subclass."""
        cancel = cancel or threading.Event()
        images.check_total(len(i.data) for i in request.images)
        user = wire.user_turn(request)
        turns = [*request.history, user]
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            if cancel.is_set():
                raise errors.cancelled()
            try:
                response = self._call(turns, request, cancel)
                result = wire.from_response(response, request)
            except errors.NanoBananaError as exc:
                if not exc.retryable or attempt >= self.config.attempts:
                    raise
                wait = exc.retry_after
                if wait is None:
                    wait = self.config.backoff_s * (2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
                if wait > self.config.max_wait_s:
                    raise
                if cancel.wait(wait):
                    raise errors.cancelled() from None
                continue
            result.turns = [*turns, *result.turns]
            result.elapsed_s = time.monotonic() - started
            result.attempts = attempt
            return result

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
                res = self.generate(replace(request, variations=1), cancel)
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
    def _call(self, turns: list[Turn], request: GenerationRequest, cancel: threading.Event):
        """Run the SDK call on a helper thread; return as soon as it ends or is cancelled."""
        sdk = self._client()
        contents = [wire.to_content(t) for t in turns]
        config = wire.to_config(request)
        box: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["response"] = sdk.models.generate_content(model=request.model,
                                                              contents=contents, config=config)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
                box["error"] = exc
            finally:
                done.set()

        thread = threading.Thread(target=run, name="nanobanana-http", daemon=True)
        thread.start()
        while not done.wait(0.05):
            if cancel.is_set():
                raise errors.cancelled()   # the late answer is dropped with the thread
        if "error" in box:
            raise self.classify(box["error"], request.model)
        return box["response"]

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


