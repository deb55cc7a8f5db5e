"""Session state of the add-on (main thread only): the job manager, the file token that
stops jobs from an earlier file writing into a new one, the last status line shown in the
panel, the conversation to refine, and the running session cost."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy

from ..core.jobs import JobManager
from . import preferences
from .targets import ImageOnly, Target


@dataclass
class Status:
    text: str = ""
    level: str = "INFO"          # INFO / WARNING / ERROR
    fix: str | None = None       # errors.FIX_* action for a button
    suggested_model: str | None = None


@dataclass
class Runtime:
    jobs: JobManager = field(default_factory=JobManager)
    file_token: int = 0
    status: Status = field(default_factory=Status)
    last_turns: list = field(default_factory=list)   # core.request.Turn
    last_model: str = ""
    last_target: Target = field(default_factory=ImageOnly)   # where the last result went
    last_mask: Any = None       # core.masked_edit.MaskSpec: the mask Refine carries over
    session_cost_usd: float = 0.0


STATE = Runtime()


def set_status(text: str, level: str = "INFO", fix: str | None = None,
               suggested_model: str | None = None) -> None:
    """The panel's status line; any API key in the text is hidden (errors.redact)."""
    from ..core.errors import redact
    STATE.status = Status(redact(text), level, fix, suggested_model)


def user_folder() -> Path:
    return Path(bpy.utils.extension_path_user(preferences.ADDON_ID, create=True))


def history_root(context=None) -> Path:
    prefs = preferences.get(context)
    if prefs.history_location == "BLEND" and bpy.data.filepath:
        return Path(bpy.path.abspath("//nanobanana_history"))
    return user_folder() / "history"


def history(context=None):
    from ..core.history import History  # imported on first use, not at start-up
    return History(history_root(context))
