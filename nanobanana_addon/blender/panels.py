"""Sidebar tab "Nano Banana" in the 3D View, Image Editor and Shader Editor: state line
with fix buttons, prompt and settings, cost estimate, actions, running jobs, last status."""
from __future__ import annotations

from collections.abc import Callable

import bpy

from ..core import errors, models
from . import gallery, live_models, operators, properties, runtime, texturing

CATEGORY = "Nano Banana"
FIX_OPERATORS = {
    errors.FIX_PREFERENCES: ("nanobanana.open_preferences", "PREFERENCES"),
    errors.FIX_ONLINE: ("nanobanana.enable_online_access", "URL"),
    errors.FIX_SWITCH_MODEL: ("nanobanana.switch_model", "FILE_REFRESH"),
}


STATE_LINES = {"offline": ("Online access is disabled", "Enable Online Access"),
               "missing_key": ("No Gemini API key", "Add API Key")}


def state_line(layout, context) -> bool:
    """Draw what stops generation, with the fix. Returns True when ready."""
    blocker = operators.readiness(context)
    if blocker is None:
        return True
    title, button = STATE_LINES[blocker.kind]
    op_id, icon = FIX_OPERATORS[blocker.fix or ""]
    box = layout.box()
    box.label(text=title, icon="ERROR")
    box.operator(op_id, text=button, icon=icon)
    return False


def draw_settings(layout, context) -> None:
    s = context.scene.nanobanana
    col = layout.column(align=True)
    if s.prompt_text is None:
        col.prop(s, "prompt", text="", icon="TEXT")
    col.prop(s, "prompt_text", text="Long prompt")
    col = layout.column()
    col.use_property_split = True
    col.use_property_decorate = False
    row = col.row(align=True)
    row.prop(s, "model")
    row.operator("nanobanana.refresh_models", text="", icon="FILE_REFRESH")
    if s.model == properties.CUSTOM:
        col.prop(s, "custom_model")
    model = properties.model_id(s)
    info = models.lookup(model)
    gone = live_models.gone(model)
    if gone is not None:
        _message_box(layout, str(gone), "ERROR", gone.fix, gone.suggested_model)
    col = layout.column()
    col.use_property_split = True
    col.use_property_decorate = False
    col.prop(s, "aspect_ratio")
    sub = col.row()
    sub.enabled = bool(info.image_sizes)
    sub.prop(s, "image_size")
    if info.thinking_levels:
        col.row().prop(s, "speed", expand=True)
    col.prop(s, "variations")
    col.prop(s, "seamless")
    col.prop(s, "result_target")
    cost = models.estimate_cost(properties.model_id(s), s.image_size, s.variations, len(s.references))
    approx = "~" if info.price_estimated else ""
    text = f"Estimated cost: {approx}${cost:.3f}" if cost is not None else "Estimated cost: unknown model price"
    layout.label(text=text, icon="FUND")


def draw_actions(layout, context) -> None:
    s = context.scene.nanobanana
    col = layout.column(align=True)
    col.scale_y = 1.3
    col.operator("nanobanana.generate", icon="IMAGE_DATA")
    row = col.row(align=True)
    row.operator("nanobanana.edit_render", icon="RESTRICT_RENDER_OFF")
    row.prop(s, "render_source", text="")
    col.operator("nanobanana.edit_texture", icon="TEXTURE")
    col.operator("nanobanana.refine", icon="LOOP_FORWARDS")


def draw_jobs(layout) -> None:
    for job in runtime.STATE.jobs.running():
        box = layout.box()
        row = box.row()
        row.label(text=f"{models.label_of(job.model)} · {job.elapsed:.0f} s", icon="SORTTIME")
        op = row.operator("nanobanana.cancel", text="", icon="X")
        op.job_id = job.id
        box.progress(factor=job.progress(), type="BAR", text=job.label or job.kind)


def draw_status(layout) -> None:
    st = runtime.STATE.status
    if not st.text:
        return
    _message_box(layout, st.text, st.level, st.fix, st.suggested_model)


def _message_box(layout, text: str, level: str, fix: str | None, suggested: str | None) -> None:
    """A wrapped message with the button that fixes it (switch model, preferences, …)."""
    icon = {"ERROR": "ERROR", "WARNING": "INFO"}.get(level, "CHECKMARK")
    box = layout.box()
    col = box.column(align=True)
    for i, line in enumerate(_wrap(text, 48)):
        col.label(text=line, icon=icon if i == 0 else "BLANK1")
    if fix in FIX_OPERATORS:
        op_id, op_icon = FIX_OPERATORS[fix]
        if fix == errors.FIX_SWITCH_MODEL:
            target = suggested or models.DEFAULT_MODEL
            op = col.operator(op_id, text=f"Switch to {models.label_of(target)}", icon=op_icon)
            op.model = target
        else:
            col.operator(op_id, icon=op_icon)


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])


def draw_main(layout, context) -> None:
    state_line(layout, context)
    draw_settings(layout, context)
    draw_actions(layout, context)
    draw_jobs(layout)
    draw_status(layout)
    s = context.scene.nanobanana
    layout.label(text=f"Spent: session ${runtime.STATE.session_cost_usd:.3f} · "
                      f"file ${s.file_cost_usd:.3f}")


def draw_references(layout, context) -> None:
    s = context.scene.nanobanana
    info = models.lookup(properties.model_id(s))
    layout.label(text=f"Up to {info.max_reference_images} input images for {info.label}")
    row = layout.row()
    row.template_list("UI_UL_list", "nanobanana_refs", s, "references", s, "reference_index", rows=2)
    col = row.column(align=True)
    col.operator("nanobanana.reference_add", text="", icon="ADD")
    col.operator("nanobanana.reference_remove", text="", icon="REMOVE")
    if 0 <= s.reference_index < len(s.references):
        item = s.references[s.reference_index]
        layout.template_ID(item, "image", open="image.open")
        layout.prop(item, "filepath")


def _main_poll(cls, context) -> bool:
    # The Node Editor tab is for shader trees only.
    return cls.bl_space_type != "NODE_EDITOR" or getattr(context.space_data, "tree_type", "") == "ShaderNodeTree"


# (name part, label, draw function, options); the first is the parent of the others.
SECTIONS: tuple[tuple[str, str, Callable, set[str]], ...] = (("main", "Nano Banana", draw_main, set()),
            ("texture", "Texture", lambda layout, context: texturing.draw_panel(layout, context), set()),
            ("refs", "Reference Images", draw_references, {"DEFAULT_CLOSED"}),
            ("history", "History", lambda layout, context: gallery.draw(layout, context), set()))
SPACES = (("VIEW_3D", "view3d"), ("IMAGE_EDITOR", "image"), ("NODE_EDITOR", "node"))
ONLY_IN = {"texture": "VIEW_3D"}      # sections that belong to one editor


def _panel(space: str, suffix: str, part: str, label: str, draw_fn, options: set) -> type:
    name = f"NANOBANANA_PT_{part}_{suffix}"
    attrs = {"bl_space_type": space, "bl_region_type": "UI", "bl_category": CATEGORY,
             "bl_label": label, "bl_idname": name, "bl_options": options,
             "draw": lambda self, context: draw_fn(self.layout, context)}
    if part == "main":
        attrs["poll"] = classmethod(_main_poll)
    else:
        attrs["bl_parent_id"] = f"NANOBANANA_PT_main_{suffix}"
    return type(name, (bpy.types.Panel,), attrs)


CLASSES = tuple(_panel(space, suffix, *section) for space, suffix in SPACES for section in SECTIONS
                if ONLY_IN.get(section[0], space) == space)
