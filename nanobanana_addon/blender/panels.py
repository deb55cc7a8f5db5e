"""What the sidebar tab "Nano Banana" draws in the 3D View, Image Editor and Shader Editor
(main thread; the panels are declared in classes/panels.py, this loads on their first draw):
what stops generation (with its fix), prompt and settings, cost, the actions that work in
this editor, running jobs, the last status. Every message is wrapped to the sidebar's real
width (ui_text.py), so Blender never cuts one in the middle. Jobs also show in Blender's
editor headers (header_progress.py), so progress and cancel stay reachable with the sidebar closed.
"""
from __future__ import annotations

from collections.abc import Callable

from ..core import errors, models
from . import gallery, operators, panel_materials, properties

FIX_OPERATORS = {
    errors.FIX_PREFERENCES: ("nanobanana.open_preferences", "PREFERENCES"),
    errors.FIX_ONLINE: ("nanobanana.enable_online_access", "URL"),
    errors.FIX_SWITCH_MODEL: ("nanobanana.switch_model", "MODIFIER"),
}
STATE_LINES = {"offline": ("Online access is disabled", "Enable Online Access"),
               "missing_key": ("No Gemini API key", "Add API Key")}
LEVEL_ICONS = {"ERROR": "CANCEL", "WARNING": "ERROR", "WORKING": "SORTTIME", "INFO": "CHECKMARK"}


def _space(context) -> str:
    return getattr(getattr(context, "space_data", None), "type", "VIEW_3D")


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


def draw_prompt(layout, context) -> None:
    from . import ui_text
    s = context.scene.nanobanana
    col = layout.column(align=True)
    if s.prompt_text is not None:
        col.label(text=ui_text.shorten(f"Prompt from the text '{s.prompt_text.name}':",
                                       ui_text.available(context)), icon="TEXT")
        _wrapped(col, context, properties.prompt_of(s) or "(the text is empty)", "NONE", limit=4)
    else:
        col.label(text="Prompt", icon="TEXT")
        col.prop(s, "prompt", text="", placeholder="Describe the image, or the change to make")
        prompt = s.prompt.strip()
        if prompt and ui_text.text_width(prompt) > ui_text.available(context, 70):
            _wrapped(col, context, prompt, "NONE", limit=6)     # the whole prompt, readable
    col.prop(s, "prompt_text", text="", icon="FILE_TEXT", placeholder="Long prompt from a Text")


def draw_settings(layout, context) -> None:
    from . import live_models
    s = context.scene.nanobanana
    row = layout.row(align=True)        # full width: long model names stay readable
    row.prop(s, "model", text="")
    row.operator("nanobanana.refresh_models", text="", icon="FILE_REFRESH")
    col = _split_column(layout)
    if s.model == properties.CUSTOM:
        col.prop(s, "custom_model")
    model = properties.model_id(s)
    info = models.lookup(model)
    gone = live_models.gone(model)
    if gone is not None:
        _message_box(layout, context, str(gone), "ERROR", gone.fix, gone.suggested_model)
        col = _split_column(layout)
    col.prop(s, "aspect_ratio")
    sub = col.row()
    sub.enabled = len(info.sizes) > 1           # its tooltip says "makes 1K images only"
    sub.prop(s, "image_size")
    if info.thinking_levels:
        col.row().prop(s, "speed", expand=True)
    col.prop(s, "variations")
    if s.variations > 1:                        # preview before apply (variation_pick.py)
        col.prop(s, "pick_variation")
    col.prop(s, "seamless")
    if _space(context) == "VIEW_3D":            # "material on selection": the 3D selection
        col.prop(s, "result_target")
    cost = models.estimate_cost(model, s.image_size, s.variations, len(s.references))
    approx = "about " if info.price_estimated else ""
    layout.label(text=f"Cost: {approx}${cost:.3f} per click" if cost is not None
                 else "Cost: this model's price is unknown")


def _split_column(layout):
    col = layout.column()
    col.use_property_split = True
    col.use_property_decorate = False
    return col


def draw_actions(layout, context) -> None:
    """The actions that work in this editor: Edit Render only in the 3D View."""
    s = context.scene.nanobanana
    space = _space(context)
    col = layout.column(align=True)
    col.scale_y = 1.3
    col.operator("nanobanana.generate", icon="IMAGE_DATA")
    if space == "VIEW_3D":
        row = col.row(align=True)
        row.operator("nanobanana.edit_render", icon="RESTRICT_RENDER_OFF")
        row.prop(s, "render_source", text="")
    col.operator("nanobanana.edit_texture", icon="TEXTURE",
                 text="Edit This Image" if space == "IMAGE_EDITOR" else "Edit Texture")
    if space == "IMAGE_EDITOR":
        from . import sequence_ops
        sequence_ops.draw_button(col, context)
    col.operator("nanobanana.refine", icon="LOOP_FORWARDS")
    draw_mask(layout, s)


def draw_mask(layout, s) -> None:
    """Masked edits: the mask image, feather, and its tools."""
    box = layout.box()
    box.prop(s, "use_mask", text="Edit only the masked area", icon="MOD_MASK")
    if not s.use_mask:
        return
    box.template_ID(s, "mask_image", new="nanobanana.mask_new")
    box.prop(s, "mask_feather")
    row = box.row(align=True)
    row.operator("nanobanana.mask_rectangle", text="Box", icon="SELECT_SET")
    row.operator("nanobanana.mask_lasso", text="Lasso", icon="CURVE_BEZCIRCLE")
    row.operator("nanobanana.mask_invert", text="Invert", icon="ARROW_LEFTRIGHT")
    row.operator("nanobanana.mask_clear", text="Clear", icon="X")


def job_line(job) -> str:
    """"Nano Banana 2.1 · 12 s of ~10 s": elapsed, and the model's typical time."""
    return f"{models.label_of(job.model)} · {job.elapsed:.0f} s of ~{job.expected_s:.0f} s"


def draw_jobs(layout, context) -> None:
    from . import runtime, ui_text
    for job in runtime.STATE.jobs.running():
        box = layout.box()
        row = box.row()
        row.label(text=ui_text.shorten(job_line(job), ui_text.available(context, 110)), icon="SORTTIME")
        op = row.operator("nanobanana.cancel", text="", icon="X")
        op.job_id = job.id
        box.progress(factor=job.progress(), type="BAR",
                     text=ui_text.shorten(job.label or job.kind, ui_text.available(context, 70)))


def draw_status(layout, context) -> None:
    from . import live_models, runtime
    st = runtime.STATE.status
    if not st.text or st.level == "WORKING":     # while working, the job box says it
        return
    gone = live_models.gone(properties.model_id(context.scene.nanobanana))
    if gone is not None and st.text == str(gone):  # already in the box under the model
        return
    _message_box(layout, context, st.text, st.level, st.fix, st.suggested_model, dismiss=True)


def _wrapped(col, context, text: str, icon: str, limit: int = 0) -> None:
    from . import ui_text
    width = ui_text.available(context, ui_text.LABEL_MARGIN if icon != "NONE" else 70)
    lines = ui_text.wrap(text, width)
    if limit and len(lines) > limit:
        lines = lines[:limit - 1] + [ui_text.shorten(" ".join(lines[limit - 1:]), width)]
    for i, line in enumerate(lines):
        col.label(text=line, icon=icon if i == 0 or icon == "NONE" else "BLANK1")


def _message_box(layout, context, text: str, level: str, fix: str | None, suggested: str | None,
                 dismiss: bool = False) -> None:
    """A message wrapped to the sidebar's width, with the button that fixes it."""
    box = layout.box()
    col = box.column(align=True)
    _wrapped(col, context, text, LEVEL_ICONS.get(level, "INFO"))
    row = col.row(align=True)
    if fix in FIX_OPERATORS:
        op_id, op_icon = FIX_OPERATORS[fix]
        if fix == errors.FIX_SWITCH_MODEL:
            target = suggested or models.DEFAULT_MODEL
            op = row.operator(op_id, text=f"Switch to {models.label_of(target)}", icon=op_icon)
            op.model = target
        else:
            row.operator(op_id, icon=op_icon)
    if dismiss:
        row.operator("nanobanana.dismiss_status", text="" if fix in FIX_OPERATORS else "Dismiss",
                     icon="X")


def draw_main(layout, context) -> None:
    from . import runtime, variation_pick
    state_line(layout, context)
    draw_prompt(layout, context)
    draw_settings(layout, context)
    draw_actions(layout, context)
    draw_jobs(layout, context)
    variation_pick.draw(layout, context)
    draw_status(layout, context)
    row = layout.row()
    row.label(text=f"Session ${runtime.STATE.session_cost_usd:.3f}")
    row.label(text=f"File ${context.scene.nanobanana.file_cost_usd:.3f}")


def draw_references(layout, context) -> None:
    s = context.scene.nanobanana
    info = models.lookup(properties.model_id(s))
    _wrapped(layout.column(align=True), context,
             f"Up to {info.max_reference_images} input images for {info.label}", "NONE")
    row = layout.row()
    row.template_list("UI_UL_list", "nanobanana_refs", s, "references", s, "reference_index", rows=2)
    col = row.column(align=True)
    col.operator("nanobanana.reference_add", text="", icon="ADD")
    col.operator("nanobanana.reference_remove", text="", icon="REMOVE")
    if 0 <= s.reference_index < len(s.references):
        item = s.references[s.reference_index]
        layout.template_ID(item, "image", open="image.open")
        layout.prop(item, "filepath")


# What the panels declared in classes/panels.py draw (lazy.behaviour copies one onto each).
class Main:
    def draw(self, context):
        draw_main(self.layout, context)

    @classmethod
    def poll(cls, context) -> bool:
        # The Node Editor tab is for shader trees only.
        return (cls.bl_space_type != "NODE_EDITOR"  # type: ignore[attr-defined]
                or getattr(context.space_data, "tree_type", "") == "ShaderNodeTree")


def _texturing():
    from . import texturing  # loaded on the Texture section's first draw, not at enable
    return texturing


class Texture:
    def draw(self, context):
        _texturing().draw_panel(self.layout, context)


class References:
    def draw(self, context):
        draw_references(self.layout, context)


class Materials:
    def draw(self, context):
        panel_materials.draw_materials(self.layout, context)


class History:
    def draw(self, context):
        gallery.draw(self.layout, context)


# (name part, label, draw function, options), as classes/panels.SECTIONS orders them.
SECTIONS: tuple[tuple[str, str, Callable, set[str]], ...] = (("main", "Nano Banana", draw_main, set()),
            ("texture", "Texture", lambda layout, context: _texturing().draw_panel(layout, context), set()),
            ("refs", "Reference Images", draw_references, {"DEFAULT_CLOSED"}),
            ("materials", "Materials & PBR", panel_materials.draw_materials, {"DEFAULT_CLOSED"}),
            ("history", "History", lambda layout, context: gallery.draw(layout, context), set()))
