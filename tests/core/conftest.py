"""Plain pytest for nanobanana_addon.core (no Blender): the real google-genai client
against the fake Gemini server on 127.0.0.1."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for p in (str(ROOT), str(ROOT / "tests")):
    if p not in sys.path:
        sys.path.insert(0, p)

from fake_gemini import FakeGemini  # noqa: E402

KEY = "AIzaTEST-key-7c1d0e9b"


@pytest.fixture
def fake():
    server = FakeGemini(api_key=KEY)
    yield server
    server.close()


@pytest.fixture
def make_client(fake):
    from nanobanana_addon.core.client import ClientConfig, GeminiClient
    made = []

    def make(**kw):
        cfg = dict(api_key=KEY, base_url=fake.url, timeout_s=10.0, attempts=3, backoff_s=0.05,
                   max_wait_s=5.0)
        cfg.update(kw)
        client = GeminiClient(ClientConfig(**cfg))
        made.append(client)
        return client
    yield make
    for c in made:
        c.close()


def png(w=64, h=32, mode="RGB", color=(200, 30, 30)) -> bytes:
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new(mode, (w, h), color).save(buf, "PNG")
    return buf.getvalue()
