"""One History row (main thread, draw code): the thumbnail, the prompt on up to two lines
cut at a word, "model · date · cost" short enough for the sidebar, and icon buttons whose
tooltips say what they do (Load, Apply, Edit, Continue, Recall, Delete)."""
from __future__ import annotations

import time

from ..core import models
from . import ui_text

BUTTONS = (("nanobanana.history_use", "LOAD", "IMAGE_DATA"), ("nanobanana.history_use", "MATERIAL", "MATERIAL"),
           ("nanobanana.history_use", "EDIT", "IMAGE"), ("nanobanana.history_continue", "", "LOOP_FORWARDS"),
           ("nanobanana.history_recall", "", "RECOVER_LAST"), ("nanobanana.history_delete", "", "TRASH"))
THUMB_PX = 68            # a template_icon at scale 3 and its padding


def when(created: str, now: float | None = None) -> str:
    """"14:05" today, "Nov 24" this year, "2025-11-24" before."""
    try:
        t = time.strptime(created, "%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return ""
    today = time.localtime(now)
    if t[:3] == today[:3]:
        return time.strftime("%H:%M", t)
    return time.strftime("%b %d" if t.tm_year == today.tm_year else "%Y-%m-%d", t)


def draw_entry(layout, context, entry, icon: int) -> None:
    """Thumbnail beside the prompt, model and date; the buttons on their own row below."""
    box = layout.box()
    top = box.row()
    if icon:
        top.template_icon(icon_value=icon, scale=3.0)
    col = top.column(align=True)
    width = ui_text.available(context, ui_text.LABEL_MARGIN - 24 + (THUMB_PX if icon else 0))
    lines = ui_text.wrap(entry.prompt or "(no prompt)", width)
    if len(lines) > 2:
        lines = [lines[0], ui_text.shorten(" ".join(lines[1:]), width)]
    for line in lines:
        col.label(text=line)
    col.label(text=ui_text.shorten(models.label_of(entry.model), width))
    cost = entry.cost_usd           # index fields only: a row never reads its sidecar
    facts = [when(entry.created_text), f"${cost:.3f}" if cost else ""]
    col.label(text=" · ".join(f for f in facts if f))
    ops = box.row(align=True)
    for op_id, mode, icon_name in BUTTONS:
        op = ops.operator(op_id, text="", icon=icon_name)
        op.entry_id = entry.id
        if mode:
            op.mode = mode
