"""Starts and stops the job pump of `blender/pump.py` (its timer and file-load handler)
without loading it: enabling arms a one-shot timer that, a second later, starts the real
timer (`pump.ensure_timer`); the first tick then loads the job modules. Disabling stops
whatever of the pump has loaded and cancels running jobs."""
import bpy

from ..lazy import function, loaded

START_AFTER_S = 1.0     # pump.INTERVAL_IDLE: nothing to pick up yet at enable
# Returns None, so Blender drops this timer once it has started the real one (which a
# submit may have started earlier: then it is only re-armed).
_start = function("pump:ensure_timer", 0)
_on_load_post = function("pump:_on_load_post", 2, persistent=True)


def register() -> None:
    bpy.app.timers.register(_start, first_interval=START_AFTER_S, persistent=True)
    bpy.app.handlers.load_post.append(_on_load_post)


def unregister() -> None:
    if bpy.app.timers.is_registered(_start):
        bpy.app.timers.unregister(_start)
    if _on_load_post in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_on_load_post)
    pump = loaded("blender.pump")
    if pump is not None:
        if bpy.app.timers.is_registered(pump._tick):
            bpy.app.timers.unregister(pump._tick)
        for landing in pump._landings:
            landing.discard()
        pump._landings.clear()
    runtime, live_models = loaded("blender.runtime"), loaded("blender.live_models")
    if runtime is not None:
        runtime.STATE.jobs.cancel()
    if live_models is not None:
        live_models.unregister()
    pipeline = loaded("core.pipeline")
    if pipeline is not None:            # loaded on the first job only
        pipeline.close_clients()
