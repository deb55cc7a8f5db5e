"""PBR maps from the active texture (issue 12): `bpy.ops.nanobanana.pbr_maps()`.

Main thread: find the texture (capture.active_texture), copy its pixels when Blender has
decoded it (one foreach_get into float32), else take its stored file's bytes
(capture.image_input: nothing is decoded on the main thread), start a job. A
worker derives and encodes the maps (core/material_maps.py); the pump lands them one per
tick through targets.PbrSet, which wires them into the material in one undo step.
Free and offline: no key, no online access needed. The registered operator is declared
in classes/materials.py; `PbrMaps` here holds its code (loaded on the first call).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

import bpy

from ..core import errors
from .numpy_guard import needs_numpy

if TYPE_CHECKING:
    from ..core.jobs import Job

LAST_MAIN_THREAD_MS: list[float] = []   # main-thread time of the last start() (bench, tests)


def _pixels(img: bpy.types.Image):
    """A decoded image as a copy of its pixels (one foreach_get into float32, ~25 ms at 2K):
    cheaper in all than its file, which the worker would decode again."""
    import numpy as np

    from ..core.request import InputImage
    from . import capture
    w, h = img.size
    buf = np.empty(w * h * 4, dtype=np.float32)
    img.pixels.foreach_get(buf)
    return InputImage(b"", "image/png", "edit", img.name, pixels=buf.reshape(h, w, 4),
                      linear=bool(img.is_float) and not capture.is_data(img))


def start(context) -> Job:
    """Capture on the main thread, derive on a worker. Raises errors.InvalidInput without a texture."""
    from ..core import material_maps
    from ..core.jobs import Job
    from ..core.request import JobKind
    from . import capture, pump, runtime, targets
    t0 = time.perf_counter()
    s = context.scene.nanobanana
    img, mat, node = capture.active_texture(context)
    source = _pixels(img) if img.has_data else capture.image_input(img, "edit")
    spec = material_maps.PbrSpec(source, img.name, ao=s.pbr_ao, normal_strength=s.pbr_strength)
    target = targets.PbrSet(mat.name if mat is not None else "", node, img.name)
    # The same payload pump.submit gives a Gemini job: the landing code reads it.
    job = Job(label=f"PBR maps of {img.name}", model=material_maps.LOCAL_MODEL, kind=JobKind.PBR_MAPS,
              expected_s=1.0, target=target,
              payload={"file_token": runtime.STATE.file_token, "scene": context.scene.name})
    runtime.STATE.jobs.submit(job, lambda cancel: material_maps.run(spec, cancel))
    pump.ensure_timer()
    LAST_MAIN_THREAD_MS[:] = [(time.perf_counter() - t0) * 1000]
    return job


class PbrMaps:
    @needs_numpy
    def execute(self, context):
        import traceback

        from ..core.jobs import JobState
        from . import pump, runtime
        try:
            job = start(context)
        except Exception as exc:  # noqa: BLE001 - a clear message, never a traceback dialog
            if not isinstance(exc, errors.NanoBananaError):
                traceback.print_exc()
                exc = errors.prepare_failed(exc)
            runtime.set_status(str(exc), "ERROR")
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        if bpy.app.background:
            level, text = pump.wait_and_apply(job)
            self.report({level}, text)
            return {"CANCELLED"} if level == "ERROR" or job.state != JobState.DONE else {"FINISHED"}
        runtime.set_status(f"Making PBR maps of {job.target.source}…", "INFO")
        return {"FINISHED"}

