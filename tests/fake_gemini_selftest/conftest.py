"""Makes the repo root importable and provides the ``fake_gemini`` fixture the
way other suites are expected to use it."""
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import pytest  # noqa: E402

from tests.fake_gemini.models import MODELS  # noqa: E402
from tests.fake_gemini.server import FakeGemini  # noqa: E402


@pytest.fixture
def fake_gemini():
    """The fake with every model of its table served (retired ones too), so the grids
    of all of them stay tested; `test_retired_ids_answer_404` checks the default set."""
    fake = FakeGemini(api_key="test-key", live=list(MODELS))
    try:
        yield fake
    finally:
        fake.close()
