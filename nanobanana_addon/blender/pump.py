"""Main-thread side of jobs: submit a snapshotted request, and apply finished jobs.

A timer drains finished jobs in the UI; in background mode (scripts, CLI, tests) timers
never fire, so operators call `wait_and_apply()` instead. Same apply code either way.
Results for a file that was closed meanwhile are not applied (they are in history).
"""
from __future__ import annotations

import time
import traceback
from typing import TYPE_CHECKING

import bpy
from bpy.app.handlers import persistent

if TYPE_CHECKING:   # everything else loads on the first tick or job, not when Blender starts (bench P3)
    from ..core.client import ClientConfig
    from ..core.jobs import Job
    from ..core.pipeline import Outcome
    from ..core.request import GenerationRequest
    from .targets import Target

INTERVAL_BUSY = 0.015   # while jobs run: a finished job is taken within ~15 ms (a cheap tick)
INTERVAL_IDLE = 1.0
PROGRESS_REDRAW_S = 0.25   # while jobs run and nothing lands: progress redrawn 4 times a second
_progress_drawn = [0.0]


def client_config(context) -> ClientConfig:
    from ..core.client import ClientConfig
    from . import preferences
    prefs = preferences.get(context)
    return ClientConfig(api_key=prefs.api_key or None, base_url=prefs.base_url.strip() or None,
                        timeout_s=prefs.timeout_s,
                        vertex_project=prefs.vertex_project.strip() or None,
                        vertex_location=prefs.vertex_location.strip() or None)


def submit(context, request: GenerationRequest, target: Target) -> Job:
    """Start a job for a settled request; `target` places its result when it is done."""
    from ..core import errors, models
    from ..core.jobs import Job
    from . import runtime
    job = Job(label=errors.redact(request.prompt)[:48], model=request.model, kind=request.kind,
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
    from ..core import errors
    from ..core.jobs import JobState
    from . import runtime
    runtime.STATE.jobs.wait(job, timeout)
    if job.state == JobState.RUNNING:
        runtime.STATE.jobs.cancel(job.id)
    verdicts = {j.id: apply_job(j) for j in runtime.STATE.jobs.drain()}
    return verdicts.get(job.id, ("ERROR", errors.no_result()))


class _Landing:
    """A finished job whose images are being packed, one per timer tick in the UI, so
    eight 4K variations never land in one long stall. Main thread only."""

    def __init__(self, job: Job):
        self.job = job
        self.outcome: Outcome = job.result
        self.pending = [i for r in self.outcome.results for i in r.images]
        self.created: list[bpy.types.Image] = []

    def packed(self) -> bool:
        return len(self.created) == len(self.pending)

    def step(self) -> bool:
        """Pack the next image (no decode: the worker checked it). True when all are packed."""
        from . import apply
        k = len(self.created)
        entry = self.outcome.entries[k] if k < len(self.outcome.entries) else None
        self.created.append(apply.packed_image(apply.name_from_prompt(self.outcome.request.prompt),
                                               self.pending[k].data, entry.id if entry else "",
                                               self.job.target.colorspace))
        return len(self.created) == len(self.pending)

    def discard(self) -> None:
        for img in self.created:
            bpy.data.images.remove(img)
        self.created = []


def apply_job(job: Job) -> tuple[str, str]:
    """Apply one finished job at once (background mode, cancel). Returns (level, message)
    and sets the panel status. Never raises."""
    landing = _begin(job)
    while isinstance(landing, _Landing):
        landing = _advance(landing)
    return landing


def _begin(job: Job) -> _Landing | tuple[str, str]:
    """A landing for a successful job; the final (level, message) for anything else."""
    from ..core import errors, models
    from ..core.jobs import JobState
    from . import runtime
    if job.state == JobState.DONE and job.payload["file_token"] == runtime.STATE.file_token:
        return _Landing(job)
    if job.state == JobState.CANCELLED:
        verdict = ("INFO", str(errors.cancelled()))
    elif job.state == JobState.FAILED:
        verdict = ("ERROR", str(job.error))
    else:
        verdict = ("WARNING", errors.file_closed(models.label_of(job.model)))
    return _finish(job, *verdict)


def _advance(landing: _Landing) -> _Landing | tuple[str, str]:
    """Pack one more image, or, once all are packed, place them: placing gets a call (a
    tick) of its own, so the tick that shows the first image, which Blender then decodes
    for the redraw, packs nothing. Never raises: an exception here would also stop the
    timer that lands results."""
    from ..core import errors
    job = landing.job
    try:
        if not landing.packed():
            landing.step()
            return landing
        note = job.target.place(landing.created)
    except Exception as exc:  # noqa: BLE001 - leave no partial datablocks, whatever failed
        landing.discard()
        if not isinstance(exc, errors.NanoBananaError):
            traceback.print_exc()
        return _finish(job, "ERROR", errors.apply_failed(exc))
    try:
        level, text = _landed(job, landing)
        if note:
            level, text = "WARNING", f"{text} {note}."
        return _finish(job, level, text)
    except Exception as exc:  # noqa: BLE001 - the images are placed; say what failed after
        traceback.print_exc()
        return _finish(job, "ERROR", errors.apply_failed(exc))


def _landed(job: Job, landing: _Landing) -> tuple[str, str]:
    from ..core import errors, models
    from ..core.request import JobKind
    from . import runtime
    outcome = landing.outcome
    first = outcome.results[0]
    from ..core import masked_edit
    if first.turns:         # local results (PBR maps) have no conversation: Refine keeps the last one
        runtime.STATE.last_turns = list(first.turns)
        runtime.STATE.last_model = first.model
        runtime.STATE.last_target = job.target
        runtime.STATE.last_mask = masked_edit.carried(outcome.request.mask, first.images[0].data)
    cost = sum(r.cost_usd or 0.0 for r in outcome.results)
    runtime.STATE.session_cost_usd += cost
    scene = bpy.data.scenes.get(job.payload["scene"])
    if scene is not None:
        scene.nanobanana.file_cost_usd += cost
    _undo_step(f"Nano Banana {JobKind(job.kind).words}")
    text = errors.result_summary(job.target.landed_count(len(landing.created)), models.label_of(job.model), job.elapsed, cost,
                                 outcome.failures, outcome.warnings, first.text, outcome.notes)
    return ("WARNING" if outcome.failures or outcome.warnings else "INFO"), text


def _finish(job: Job, level: str, text: str) -> tuple[str, str]:
    from . import gallery, runtime
    gallery.invalidate()
    fix = job.error.fix if job.error is not None else None
    suggested = job.error.suggested_model if job.error is not None else None
    runtime.set_status(text, level, fix, suggested)
    return level, text


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
_landings: list[_Landing] = []


def _tick() -> float:
    """Drain finished jobs and land at most one image per tick; come back at once while
    images are waiting, soon while jobs run, rarely when idle."""
    from . import live_models, runtime
    jobs = runtime.STATE.jobs
    changed = False
    for job in jobs.drain():
        landing = _begin(job)
        if isinstance(landing, _Landing):
            _landings.append(landing)
        changed = True
    if _landings:
        landing = _advance(_landings[0])
        if not isinstance(landing, _Landing):
            _landings.pop(0)
        changed = True
    if live_models.poll():
        changed = True
    live_models.refresh()        # at most once a day, only online with a key
    if changed or (jobs.running() and time.monotonic() - _progress_drawn[0] >= PROGRESS_REDRAW_S):
        _progress_drawn[0] = time.monotonic()
        _redraw()
    if _landings:
        return 0.0
    return INTERVAL_BUSY if jobs.running() else INTERVAL_IDLE


def _redraw() -> None:
    wm = bpy.context.window_manager
    for window in wm.windows if wm else ():
        for area in window.screen.areas:
            if area.type in {"VIEW_3D", "IMAGE_EDITOR", "NODE_EDITOR", "PREFERENCES"}:
                area.tag_redraw()


def ensure_timer(first_interval: float = INTERVAL_BUSY) -> None:
    """Start the timer, or re-arm it to fire after `first_interval` (a submit must not wait
    for the idle interval)."""
    if bpy.app.timers.is_registered(_tick):
        bpy.app.timers.unregister(_tick)
    bpy.app.timers.register(_tick, first_interval=first_interval, persistent=True)


@persistent
def _on_load_post(*_args) -> None:
    from . import runtime
    from .targets import ImageOnly
    _landings.clear()           # their images went with the old file; results are in history
    runtime.STATE.file_token += 1
    runtime.STATE.last_turns = []
    runtime.STATE.last_target = ImageOnly()
    runtime.STATE.last_mask = None
