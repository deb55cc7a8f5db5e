"""Declarations of Send as Batch, the batch operators and the Batches sub-panel; their code is
`blender/batches.py`. Also the poll timer: enabling registers TICK, a stub that loads
batches.py and runs its `_tick` only when it first fires (FIRST_POLL_S after start-up)."""

import bpy
from bpy.props import BoolProperty, EnumProperty, StringProperty

from ..lazy import behaviour, function, loaded

FIRST_POLL_S = 5.0       # after start-up: pick up batches sent before Blender quit
TICK = function("batches:_tick", 0)      # the only timer batches.py runs (ensure_timer)


@behaviour("batches:BatchSubmit", "poll", "execute")
class NANOBANANA_OT_batch_submit(bpy.types.Operator):
    """Send the prompt (with its variations) as a Gemini batch: half the price, results later"""
    bl_idname = "nanobanana.batch_submit"
    bl_label = "Send as Batch (½ price, slower)"
    bl_options = {"REGISTER"}
    per_line: BoolProperty(  # type: ignore[valid-type]
        name="One prompt per line", default=False,
        description="Each non-empty line of the prompt text is a prompt of its own")
    edit: EnumProperty(  # type: ignore[valid-type]
        name="Edit", default="NONE", description="Generate, or edit the selected texture or the render",
        items=(("NONE", "Generate", "New images from the prompt"),
               ("TEXTURE", "Edit Texture", "Edit the selected texture with each prompt"),
               ("RENDER", "Edit Render", "Edit the render (Render Source) with each prompt")))


@behaviour("batches:BatchFetch", "poll", "execute")
class NANOBANANA_OT_batch_fetch(bpy.types.Operator):
    """Ask Gemini about the unfinished batches now and bring in finished results"""
    bl_idname = "nanobanana.batch_fetch"
    bl_label = "Fetch Results"
    bl_options = {"REGISTER"}
    name: StringProperty(default="")  # type: ignore[valid-type]


@behaviour("batches:BatchCancel", "execute")
class NANOBANANA_OT_batch_cancel(bpy.types.Operator):
    """Stop this batch; what it finished can still be fetched"""
    bl_idname = "nanobanana.batch_cancel"
    bl_label = "Cancel Batch"
    bl_options = {"REGISTER"}
    name: StringProperty()  # type: ignore[valid-type]


@behaviour("batches:BatchForget", "execute")
class NANOBANANA_OT_batch_forget(bpy.types.Operator):
    """Remove this finished batch from the list (its results stay in history)"""
    bl_idname = "nanobanana.batch_forget"
    bl_label = "Remove from List"
    bl_options = {"REGISTER"}
    name: StringProperty()  # type: ignore[valid-type]


def _panel(space: str, suffix: str) -> type:
    name = f"NANOBANANA_PT_batches_{suffix}"
    return behaviour("batches:BatchesPanel", "draw")(type(name, (bpy.types.Panel,), {
        "bl_space_type": space, "bl_region_type": "UI", "bl_category": "Nano Banana",
        "bl_label": "Batches (½ price)", "bl_idname": name, "bl_options": {"DEFAULT_CLOSED"},
        "bl_parent_id": f"NANOBANANA_PT_main_{suffix}"}))


CLASSES = (NANOBANANA_OT_batch_submit, NANOBANANA_OT_batch_fetch, NANOBANANA_OT_batch_cancel,
           NANOBANANA_OT_batch_forget, _panel("VIEW_3D", "view3d"), _panel("IMAGE_EDITOR", "image"))


def register() -> None:
    if not bpy.app.background and not bpy.app.timers.is_registered(TICK):
        bpy.app.timers.register(TICK, first_interval=FIRST_POLL_S, persistent=True)


def unregister() -> None:
    if bpy.app.timers.is_registered(TICK):
        bpy.app.timers.unregister(TICK)
    batches = loaded("blender.batches")
    if batches is not None:               # results not placed yet stay in history
        batches.STATE.to_place.clear()
