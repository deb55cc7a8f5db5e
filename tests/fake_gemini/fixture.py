"""pytest fixture ``fake_gemini``: a started FakeGemini (api_key "test-key"),
function scope, closed after the test. Use it from a conftest with
``from fake_gemini.fixture import fake_gemini`` (tests/ on sys.path),
``from tests.fake_gemini.fixture import fake_gemini``, or
``pytest_plugins = ["tests.fake_gemini.fixture"]``.
"""
import pytest

from .server import FakeGemini


@pytest.fixture
def fake_gemini():
    fake = FakeGemini(api_key="test-key")
    try:
        yield fake
    finally:
        fake.close()
