"""Main-thread side of jobs: submit a snapshotted request, and apply finished jobs.

A timer drains finished jobs in the UI; in background mode (scripts, CLI, tests) timers
never fire, so operators call `wait_and_apply()` instead. Same apply code either way.
Results for a file that was closed meanwhile are not applied (they are in history).
"""
from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

import bpy
from bpy.app.handlers import persistent

from ..core import errors, models
from ..core.jobs import Job, JobState
from ..core.request import JobKind

if TYPE_CHECKING:   # the worker-side modules load on the first job, not at start-up
    from ..core.client import ClientConfig
    from ..core.pipeline import Outcome
    from ..core.request import GenerationRequest
from . import apply, gallery, live_models, preferences, runtime
from .targets import ImageOnly, Target

INTERVAL_BUSY = 0.2
INTERVAL_IDLE = 1.0


def client_config(context) -> ClientConfig:
    from ..core.client import ClientConfig
    prefs = preferences.get(context)
    return ClientConfig(api_key=prefs.api_key or None, base_url=prefs.base_url.strip() or None,
                        timeout_s=prefs.timeout_s,
                        vertex_project=prefs.vertex_project.strip() or None,
                        vertex_location=prefs.vertex_location.strip() or None)


def submit(context, request: GenerationRequest, target: Target) -> Job:
    """Start a job for a settled request; `target` places its result when it is done."""
    job = Job(label=request.prompt[:48], model=request.model, kind=request.kind,
              expected_s=models.lookup(request.model).expected_seconds(request.image_size),
              target=target,
              payload={"file_token": runtime.STATE.file_token, "scene": context.scene.name})
    from ..core import pipeline
    config = client_config(context)
    hist = runtime.history(context)
    blend = bpy.data.filepath
    def run(req: GenerationRequest, cancel) -> Outcome:
        return pipeline.run(req, config, hist, cancel, blend)
    runtime.STATE.jobs.submit(job, lambda cancel: target.work(request, cancel, run))
    ensure_timer()
    return job


def wait_and_apply(job: Job, timeout: float | None = None) -> tuple[str, str]:
    """Background mode: block until `job` ends, apply every finished job, return ours."""
    runtime.STATE.jobs.wait(job, timeout)
    if job.state == JobState.RUNNING:
        runtime.STATE.jobs.cancel(job.id)
    verdicts = {j.id: apply_job(j) for j in runtime.STATE.jobs.drain()}
    return verdicts.get(job.id, ("ERROR", errors.no_result()))


def apply_job(job: Job) -> tuple[str, str]:
    """Apply one finished job. Returns (level, message) and sets the panel status.
    Never raises: an exception here would also stop the timer that applies results."""
    try:
        level, text = _apply(job)
    except Exception as exc:  # noqa: BLE001 - shown to the artist, traceback to the console
        traceback.print_exc()
        level, text = "ERROR", errors.apply_failed(exc)
    gallery.invalidate()
    fix = job.error.fix if job.error is not None else None
    suggested = job.error.suggested_model if job.error is not None else None
    runtime.set_status(text, level, fix, suggested)
    return level, text


def _apply(job: Job) -> tuple[str, str]:
    label = models.label_of(job.model)
    if job.state == JobState.CANCELLED:
        return "INFO", str(errors.cancelled())
    if job.state == JobState.FAILED:
        return "ERROR", str(job.error)
    outcome: Outcome = job.result
    if job.payload["file_token"] != runtime.STATE.file_token:
        return "WARNING", errors.file_closed(label)
    scene = bpy.data.scenes.get(job.payload["scene"])
    target: Target = job.target
    created: list[bpy.types.Image] = []
    try:
        for k, image in enumerate(i for r in outcome.results for i in r.images):
            entry = outcome.entries[k] if k < len(outcome.entries) else None
            name = apply.name_from_prompt(outcome.request.prompt)
            created.append(apply.packed_image(name, image.data, entry.id if entry else "",
                                              target.colorspace))
        target.place(created)
    except Exception as exc:  # noqa: BLE001 - leave no partial datablocks, whatever failed
        for img in created:
            bpy.data.images.remove(img)
        if not isinstance(exc, errors.NanoBananaError):
            traceback.print_exc()
        return "ERROR", errors.apply_failed(exc)
    first = outcome.results[0]
    runtime.STATE.last_turns = list(first.turns)
    runtime.STATE.last_model = first.model
    runtime.STATE.last_target = target
    cost = sum(r.cost_usd or 0.0 for r in outcome.results)
    runtime.STATE.session_cost_usd += cost
    if scene is not None:
        scene.nanobanana.file_cost_usd += cost
    _undo_step(f"Nano Banana {JobKind(job.kind).words}")
    text = errors.result_summary(len(created), label, job.elapsed, cost, outcome.failures,
                                 outcome.warnings, first.text)
    return ("WARNING" if outcome.failures or outcome.warnings else "INFO"), text


def _undo_step(message: str) -> None:
    """One undo step for the whole result. Timers run without a window in context, so
    the push runs with the first window (no undo stack exists in background mode)."""
    wm = bpy.context.window_manager
    if bpy.app.background or wm is None or not wm.windows:
        return
    try:
        with bpy.context.temp_override(window=wm.windows[0]):
            bpy.ops.ed.undo_push(message=message)
    except RuntimeError:
        pass


# ---------------------------------------------------------------- timer + file token
def _tick() -> float:
    jobs = runtime.STATE.jobs
    finished = jobs.drain()
    for job in finished:
        apply_job(job)
    menu_changed = live_models.poll()
    live_models.refresh()        # at most once a day, only online with a key
    if finished or jobs.running() or menu_changed:
        _redraw()
    return INTERVAL_BUSY if jobs.running() else INTERVAL_IDLE


def _redraw() -> None:
    wm = bpy.context.window_manager
    for window in wm.windows if wm else ():
        for area in window.screen.areas:
            if area.type in {"VIEW_3D", "IMAGE_EDITOR", "NODE_EDITOR", "PREFERENCES"}:
                area.tag_redraw()


def ensure_timer() -> None:
    if not bpy.app.timers.is_registered(_tick):
        bpy.app.timers.register(_tick, first_interval=INTERVAL_BUSY, persistent=True)


@persistent
def _on_load_post(*_args) -> None:
    runtime.STATE.file_token += 1
    runtime.STATE.last_turns = []
    runtime.STATE.last_target = ImageOnly()


def register() -> None:
    ensure_timer()
    bpy.app.handlers.load_post.append(_on_load_post)


def unregister() -> None:
    if bpy.app.timers.is_registered(_tick):
        bpy.app.timers.unregister(_tick)
    if _on_load_post in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_on_load_post)
    runtime.STATE.jobs.cancel()
    live_models.unregister()
