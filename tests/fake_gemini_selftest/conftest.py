"""Makes the repo root importable and provides the ``fake_gemini`` fixture the
way other suites are expected to use it."""
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.fake_gemini.fixture import fake_gemini  # noqa: E402,F401
