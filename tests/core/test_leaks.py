"""Running the whole fault matrix leaves no thread and no socket behind (a cancelled
request listens for its late answer until the deadline, then ends too)."""
from __future__ import annotations

import logging
import os
import threading
import time

from conftest import KEY
from fake_gemini import FakeGemini
from fake_gemini import responses as R

from nanobanana_addon.core import errors
from nanobanana_addon.core.client import ClientConfig, GeminiClient
from nanobanana_addon.core.request import GenerationRequest


def _sockets() -> int:
    fds = os.listdir("/proc/self/fd")
    n = 0
    for fd in fds:
        try:
            n += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


def test_fault_matrix_leaves_no_thread_or_socket(caplog):
    caplog.set_level(logging.DEBUG)
    threads_before = {t.ident for t in threading.enumerate()}
    sockets_before = _sockets()
    behaviours = [R.image(), R.api_key_invalid(), R.quota("0.05s"), R.server_error(503), R.blocked(),
                  R.finish("IMAGE_SAFETY"), R.text_only("?"), R.not_json(), R.bad_base64(),
                  R.garbage_image(), R.reset(), R.truncated(), R.slow(2.0), R.hang(),
                  R.trickle(bytes_per_second=100, chunk=10)]
    with FakeGemini(api_key=KEY) as fake:
        for behaviour in behaviours:
            fake.script(behaviour)
            client = GeminiClient(ClientConfig(api_key=KEY, base_url=fake.url, timeout_s=0.5, attempts=1))
            cancel = threading.Event()
            if behaviour.__class__.__name__ == "Hang":
                threading.Timer(0.2, cancel.set).start()
            try:
                client.generate(GenerationRequest(model="gemini-nano-banana-2.1", prompt="x"), cancel)
            except errors.NanoBananaError:
                pass
            finally:
                client.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra = [t for t in threading.enumerate() if t.ident not in threads_before and t.is_alive()]
        if not extra and _sockets() <= sockets_before:
            break
        time.sleep(0.05)
    assert [t.name for t in extra] == []
    assert caplog.records, "expected the SDK/httpx debug logs to be captured"
    assert KEY not in caplog.text
    assert _sockets() <= sockets_before
