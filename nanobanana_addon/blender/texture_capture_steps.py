"""Texture All Around pressed in the UI, captured in slices (issue 11): one clay render per
event-loop tick instead of all views back to back inside the button, with "Capturing view
2 of 4" in the status line, the 3D View header (with a cancel button) and the cursor
progress, and Esc to cancel. Main thread only.

At the press (`CaptureSteps.__init__`) everything cheap is taken at once, as
texturing.build() does: each view's camera as plain values and its matrices, the UV maps,
the meshes and occluders as arrays, the textures they keep, and the requests. Each
`tick()` then renders one view from its stored camera (a temporary camera made and removed
in the same tick, so nothing is left in the file between ticks or after a cancel); after
the last one the same ProjectAndBake job as texturing.build() gives is submitted. If a
textured object is deleted or changed between ticks, the capture stops with a message.

texturing.build() stays synchronous for scripts, the command line and background mode;
`SlicedCapture` is the invoke/modal the Texture All Around operator uses in a window.
Blender registers `CancelTextureCapture` and the header hook from classes/texturing.py,
which loads this module on first use (lazy.py); the header draws through `draw_header`
only while this module is loaded and a capture runs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import bpy
from mathutils import Matrix

from ..core import errors, models
from ..core.request import InputImage, JobKind
from . import operators, properties, pump, runtime

if TYPE_CHECKING:
    from ..core.jobs import Job
    from ..core.projection import View

TICK_S = 0.01            # modal timer: the next view as soon as Blender has handled events
ACTIVE: list[CaptureSteps] = []   # the capture in progress (the header shows it)


@dataclass(frozen=True)
class ViewCamera:
    """One around-view's orthographic camera as plain values, taken at the press."""
    matrix_world: tuple[tuple[float, ...], ...]
    ortho_scale: float
    clip: tuple[float, float]
    view: View


def _signature(obj: bpy.types.Object) -> tuple:
    """What must not change between the press and the last render."""
    return (obj.as_pointer(), tuple(tuple(r) for r in obj.matrix_world), len(obj.data.vertices),
            len(obj.data.polygons))


class CaptureSteps:
    """Texture All Around for `around` views, one render per tick()."""

    def __init__(self, context, around: int):
        from ..core import pixels, projection  # noqa: F401 - imported here, as build() does
        from . import intents
        from . import texturing as tex
        pixels._pil()
        t0 = time.perf_counter()
        self.tex = tex
        self.around = around
        self.cancelled = False
        settings = context.scene.nanobanana
        intents.check_model(properties.model_id(settings))
        objects = tex.selected_meshes(context)
        # The views, as texturing._capture_views places them (same code, same numbers).
        center, radius = tex._bounds(objects)
        self.width, self.height = tex.frame_size(tex.frame_ratio(settings, 1, 1))
        depsgraph = context.evaluated_depsgraph_get()
        cam = tex._temp_camera(context, "NB around")
        self.cameras: list[ViewCamera] = []
        try:
            for name, direction in tex.around_directions(around):
                tex.place_around(cam, center, radius, direction, self.width, self.height)
                depsgraph.update()
                self.cameras.append(ViewCamera(tex._matrix_tuple(cam.matrix_world), cam.data.ortho_scale,
                                               (cam.data.clip_start, cam.data.clip_end),
                                               tex.view_of(cam, depsgraph, self.width, self.height, name)))
        finally:
            tex._remove_camera(cam)
        # The requests now (prompt and settings as at the press); each gets its render later.
        self.requests = [intents.request_from_settings(
            settings, JobKind.TEXTURE, [InputImage(b"", "image/png", "edit", f"{c.view.name} view")],
            (self.width, self.height), variations=1) for c in self.cameras]
        self.bake_size = tex.BAKE_SIZES.get(settings.bake_size, 2048)
        self.arrays = tex.press_arrays(context, objects)
        self.signatures = {o.name: _signature(o) for o in objects}
        self.pngs: list[bytes] = []
        self.timings = {"press_s": time.perf_counter() - t0, "render_s": 0.0}

    # ------------------------------------------------------------ progress
    @property
    def total(self) -> int:
        return len(self.cameras)

    @property
    def done(self) -> int:
        return len(self.pngs)

    def progress_text(self) -> str:
        return f"Capturing view {min(self.done + 1, self.total)} of {self.total}"

    # ------------------------------------------------------------ the slices
    def _check_objects(self) -> None:
        for name, sig in self.signatures.items():
            obj = bpy.data.objects.get(name)
            if obj is None or obj.type != "MESH" or obj.as_pointer() != sig[0]:
                raise errors.texture_capture_lost(name)
            if _signature(obj) != sig:
                raise errors.texture_capture_changed(name)

    def tick(self, context) -> Job | None:
        """Render the next view; after the last one, submit the job and return it."""
        if self.cancelled or self.done >= self.total:
            return None
        context.view_layer.update()             # an edit made since the last event counts
        self._check_objects()
        t0 = time.perf_counter()
        spec = self.cameras[self.done]
        cam = self.tex._temp_camera(context, "NB around")
        try:
            cam.data.type, cam.data.sensor_fit = "ORTHO", "AUTO"
            cam.data.ortho_scale = spec.ortho_scale
            cam.data.clip_start, cam.data.clip_end = spec.clip
            cam.matrix_world = Matrix(spec.matrix_world)
            self.pngs.append(self.tex.render_clay(context, cam, self.width, self.height))
        finally:
            self.tex._remove_camera(cam)
        self.timings["render_s"] += time.perf_counter() - t0
        return self._submit(context) if self.done == self.total else None

    def cancel(self) -> None:
        """Stop: nothing was submitted and no temporary camera outlives a tick."""
        self.cancelled = True
        self.pngs.clear()

    def _submit(self, context) -> Job:
        tex = self.tex
        requests = [replace(r, images=[replace(r.images[0], data=png), *r.images[1:]])
                    for r, png in zip(self.requests, self.pngs, strict=True)]
        target = tex.bake_target(context, self.arrays, tuple(c.view for c in self.cameras), requests,
                                 self.bake_size, self.around)
        target.out["capture_timings"] = {"render_s": self.timings["render_s"],
                                         "arrays_s": self.timings["press_s"]}
        return pump.submit(context, requests[0], target)


# ---------------------------------------------------------------- the operator side
def _fail(op, exc: BaseException) -> set[str]:
    return operators.fail(op, exc)


def _redraw(context) -> None:
    for window in context.window_manager.windows:
        for area in window.screen.areas:
            if area.type in ("VIEW_3D", "PROPERTIES"):
                area.tag_redraw()


class SlicedCapture:
    """invoke/modal for an operator whose `around()` gives the view count: in a window the
    views are captured one per timer event; elsewhere (background, scripts calling the
    operator with EXEC) execute() runs as before."""
    # No class annotations here: Blender reads an operator's annotations as properties.
    _steps = cast("CaptureSteps | None", None)
    _timer = cast(Any, None)

    @classmethod
    def around(cls, context) -> int:
        raise NotImplementedError

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        from .numpy_guard import available
        if not available():
            return self.execute(context)          # its guard reports what to install
        try:
            blocker = operators.readiness(context)
            if blocker is not None:
                raise blocker
            if not properties.prompt_of(context.scene.nanobanana):
                raise errors.no_prompt()
            steps = CaptureSteps(context, self.around(context))
        except Exception as exc:  # noqa: BLE001 - a clear message, never a traceback dialog
            return _fail(self, exc)
        self._steps = steps
        ACTIVE.append(steps)
        wm = context.window_manager
        self._timer = wm.event_timer_add(TICK_S, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, steps.total)
        self._show(context)
        return {"RUNNING_MODAL"}

    def _show(self, context) -> None:
        steps = self._steps
        text = f"{steps.progress_text()} (Esc to cancel)"
        runtime.set_status(text, "WORKING")
        context.window_manager.progress_update(steps.done)
        if context.workspace is not None:
            context.workspace.status_text_set(text)
        _redraw(context)

    def _end(self, context) -> None:
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
        wm.progress_end()
        if context.workspace is not None:
            context.workspace.status_text_set(None)
        if self._steps in ACTIVE:
            ACTIVE.remove(self._steps)
        _redraw(context)

    def modal(self, context, event):
        steps = self._steps
        if steps is None:
            return {"CANCELLED"}
        if steps.cancelled or (event.type == "ESC" and event.value == "PRESS"):
            steps.cancel()
            self._end(context)
            runtime.set_status(errors.texture_capture_cancelled(), "INFO")
            self.report({"INFO"}, errors.texture_capture_cancelled())
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        try:
            job = steps.tick(context)
        except Exception as exc:  # noqa: BLE001
            steps.cancel()
            self._end(context)
            return _fail(self, exc)
        if job is None:
            self._show(context)
            return {"RUNNING_MODAL"}
        self._end(context)
        sent = errors.sent_to(models.label_of(job.model))
        runtime.set_status(sent, "WORKING")
        self.report({"INFO"}, f"Nano Banana: {sent}")
        return {"FINISHED"}

    def cancel(self, context):
        """Blender ends the modal (file loaded, window closed)."""
        if self._steps is not None:
            self._steps.cancel()
        self._end(context)


class CancelTextureCapture:
    """nanobanana.cancel_texture_capture (declared in classes/texturing.py)."""

    @classmethod
    def poll(cls, context):
        return bool(ACTIVE)

    def execute(self, context):
        for steps in ACTIVE:
            steps.cancelled = True          # the modal stops on its next event
        return {"FINISHED"}


def draw_header(self, context) -> None:
    """In the 3D View header while views are captured: progress and a cancel button
    (called by classes/texturing.py's header hook only while ACTIVE is not empty)."""
    if not ACTIVE:
        return
    row = self.layout.row(align=True)
    row.label(text=ACTIVE[0].progress_text(), icon="SORTTIME")
    row.operator("nanobanana.cancel_texture_capture", text="", icon="X")
