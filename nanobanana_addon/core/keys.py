"""Where the API key comes from: the explicit setting, else the environment variables
google-genai itself reads (GOOGLE_API_KEY first, then GEMINI_API_KEY). Tiny on purpose:
the panel calls it on every redraw."""
from __future__ import annotations

import os

KEY_ENV_VARS = ("GOOGLE_API_KEY", "GEMINI_API_KEY")


def resolve_api_key(explicit: str | None) -> str | None:
    if explicit and explicit.strip():
        return explicit.strip()
    for var in KEY_ENV_VARS:
        val = os.environ.get(var, "").strip()
        if val:
            return val
    return None
