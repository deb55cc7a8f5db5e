"""Running jobs in Blender's status bar (main thread): model, elapsed and typical time,
and a cancel button, so progress stays in sight with the sidebar closed or in another
editor. Drawn only while a job runs; the pump's timer redraws the bar."""
from __future__ import annotations

import bpy

from . import runtime


def draw(self, context) -> None:
    jobs = runtime.STATE.jobs.running()
    if not jobs:
        return
    from .panels import job_line
    row = self.layout.row(align=True)
    for job in jobs[:3]:
        row.label(text=f"Nano Banana: {job_line(job)}", icon="SORTTIME")
        op = row.operator("nanobanana.cancel", text="", icon="X")
        op.job_id = job.id
    if len(jobs) > 3:
        row.label(text=f"+{len(jobs) - 3} more")


def register() -> None:
    bpy.types.STATUSBAR_HT_header.append(draw)


def unregister() -> None:
    bpy.types.STATUSBAR_HT_header.remove(draw)
