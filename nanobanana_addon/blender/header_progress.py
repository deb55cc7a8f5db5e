"""Running jobs in the editor headers (3D View, Image Editor, Node Editor; main thread):
model, elapsed and typical time, and a cancel button, so progress stays in sight with the
sidebar closed; and "Pick a Variation" while variations wait for a pick (variation_pick.py). The pump's timer redraws these areas while jobs run. (Blender's status
bar is a global area that add-ons cannot redraw on demand, so it would show stale times.)"""
from __future__ import annotations

import bpy

HEADERS = ("VIEW3D_HT_header", "IMAGE_HT_header", "NODE_HT_header")


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


def register() -> None:
    for name in HEADERS:
        getattr(bpy.types, name).append(draw)


def unregister() -> None:
    for name in HEADERS:
        getattr(bpy.types, name).remove(draw)
