"""Running jobs in the editor headers (3D View, Image Editor, Node Editor; main thread):
model, elapsed and typical time, and a cancel button, so progress stays in sight with the
sidebar closed; and "Pick a Variation" while variations wait for a pick (variation_pick.py).
The pump's timer redraws these areas while jobs run. (Blender's status bar is a global
area that add-ons cannot redraw on demand, so it would show stale times.) The draw
function Blender calls is classes/header.py's: it calls `draw` here only when there is
something to show.
"""
from __future__ import annotations


def draw(self, context) -> None:
    from . import runtime, variation_pick
    variation_pick.header(self.layout)          # variations waiting for a pick: a popup
    jobs = runtime.STATE.jobs.running()
    if not jobs:
        return
    from .panels import job_line
    row = self.layout.row(align=True)
    for job in jobs[:2]:
        row.label(text=job_line(job), icon="SORTTIME")
        op = row.operator("nanobanana.cancel", text="", icon="X")
        op.job_id = job.id
    if len(jobs) > 2:
        row.label(text=f"+{len(jobs) - 2}")

