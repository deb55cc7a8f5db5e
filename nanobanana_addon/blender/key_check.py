"""Preferences → "Test Key": ask Gemini which models the key may use, off the main thread,
and show a clear answer in the preferences (and as a report in background mode). The
registered operator is declared in classes/key_check.py; this module loads on its first use."""
from __future__ import annotations

import threading

import bpy

from ..core import errors, models

_answer: dict[str, str] = {"text": "", "level": ""}
_thread: threading.Thread | None = None


def answer() -> tuple[str, str]:
    return _answer["text"], _answer["level"]


def _check(config) -> None:
    from ..core import discovery
    try:
        names = [models.label_of(m.id) for m in discovery.image_models(discovery.fetch(config))]
        _answer.update(text=errors.key_works(names), level="INFO")
    except errors.NanoBananaError as exc:
        _answer.update(text=str(exc), level="ERROR")
    except Exception as exc:  # noqa: BLE001 - shown, never raised into Blender
        _answer.update(text=str(errors.malformed(type(exc).__name__)), level="ERROR")


def _redraw_when_done() -> float | None:
    if _thread is not None and _thread.is_alive():
        return 0.2
    for window in bpy.context.window_manager.windows:
        for area in window.screen.areas:
            if area.type == "PREFERENCES":
                area.tag_redraw()
    return None


class TestKey:

    def execute(self, context):
        global _thread
        from . import operators, pump
        blocker = operators.readiness(context)
        if blocker is not None:
            _answer.update(text=str(blocker), level="ERROR")
            self.report({"ERROR"}, str(blocker))
            return {"CANCELLED"}
        if _thread is not None and _thread.is_alive():
            return {"CANCELLED"}
        _answer.update(text="Checking the key…", level="WORKING")
        _thread = threading.Thread(target=_check, args=(pump.client_config(context),),
                                   name="nanobanana-keycheck", daemon=True)
        _thread.start()
        if bpy.app.background:
            _thread.join(60)
            self.report({"INFO" if _answer["level"] == "INFO" else "ERROR"}, _answer["text"])
            return {"FINISHED"} if _answer["level"] == "INFO" else {"CANCELLED"}
        bpy.app.timers.register(_redraw_when_done, first_interval=0.2)
        return {"FINISHED"}

