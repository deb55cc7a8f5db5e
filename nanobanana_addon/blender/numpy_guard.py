"""One guard for everything that needs NumPy (main thread): masks, masked edits, texturing,
PBR maps. Blender from blender.org bundles NumPy; some Linux distributions' Blender packages
do not. Without it those operators end with the message in errors.numpy_missing() (what to
install), never a ModuleNotFoundError traceback. Other buttons keep working.

`needs_numpy` wraps an operator's execute (or invoke); `require()` raises the typed error
for code that builds requests (intents.py). The words (core/errors.py) load only when
NumPy is missing, so importing this guard costs nothing more.
"""
from __future__ import annotations

import functools
from collections.abc import Callable


def available() -> bool:
    """NumPy can be imported now (cheap once imported; a test may hide it)."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def require() -> None:
    if not available():
        from ..core import errors
        raise errors.numpy_missing()


def needs_numpy(method: Callable) -> Callable:
    """Decorator for an operator's execute(self, context) or invoke(self, context, event):
    without NumPy, report the message (and show it in the panel's status line) and
    cancel. Blender counts the arguments, so each kind keeps its own signature."""

    def refuse(self) -> set[str] | None:
        if available():
            return None
        from ..core import errors
        from . import runtime
        exc = errors.numpy_missing()
        runtime.set_status(str(exc), "ERROR")
        self.report({"ERROR"}, str(exc))
        return {"CANCELLED"}

    if method.__code__.co_argcount == 3:
        @functools.wraps(method)
        def guarded_invoke(self, context, event):
            return refuse(self) or method(self, context, event)
        return guarded_invoke

    @functools.wraps(method)
    def guarded(self, context):
        return refuse(self) or method(self, context)
    return guarded


def poll(cls) -> bool:
    """For poll(): in the UI, grey the button out with the message; in background mode let
    the call through, so scripts get the report from execute instead of a poll error."""
    import bpy
    if bpy.app.background or available():
        return True
    from ..core import errors
    cls.poll_message_set(str(errors.numpy_missing()))
    return False
