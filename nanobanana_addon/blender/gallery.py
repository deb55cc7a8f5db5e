"""The history gallery: thumbnails of saved results (bpy.utils.previews), search and filter,
and one-click actions per entry: load, apply to the selection, send to the Image Editor,
recall the prompt and settings, delete, open the folder, prune beyond the size limit.

The folder listing is cached and refreshed when a job lands or an action changes it, so
drawing the panel never rescans the disk."""
from __future__ import annotations

from typing import TYPE_CHECKING

import bpy
import bpy.utils.previews
from bpy.props import EnumProperty, StringProperty

from ..core import errors, models
from . import apply, history_rows, intents, live_models, preferences, runtime
from .targets import ImageOnly

if TYPE_CHECKING:
    from ..core.history import Entry

PAGE = 8
_previews = None
_cache: dict = {"key": None, "entries": [], "bytes": 0}


def invalidate() -> None:
    _cache["key"] = None


def entries(context) -> list[Entry]:
    s = context.scene.nanobanana
    root = runtime.history_root(context)
    blend = bpy.data.filepath if s.gallery_this_file else None
    key = (str(root), s.gallery_search, blend)
    if _cache["key"] != key:
        hist = runtime.history(context)
        _cache["entries"] = hist.entries(search=s.gallery_search, blend_file=blend,
                                         with_images_only=True)
        _cache["bytes"] = hist.total_bytes()
        _cache["key"] = key
    return _cache["entries"]


def icon_for(entry: Entry) -> int:
    if _previews is None or entry.image_path is None:
        return 0
    if entry.id not in _previews:
        _previews.load(entry.id, str(entry.image_path), "IMAGE")
    return _previews[entry.id].icon_id


def draw(layout, context) -> None:
    s = context.scene.nanobanana
    row = layout.row(align=True)
    row.prop(s, "gallery_search", text="", icon="VIEWZOOM")
    row.prop(s, "gallery_this_file", text="", icon="FILE_BLEND")
    row.operator("nanobanana.history_refresh", text="", icon="FILE_REFRESH")
    row.operator("nanobanana.history_open_folder", text="", icon="FILEBROWSER")
    found = entries(context)
    if not found:
        layout.label(text="No saved results yet" if not s.gallery_search else "Nothing matches")
    for entry in found[:PAGE]:
        history_rows.draw_entry(layout, context, entry, icon_for(entry))
    if len(found) > PAGE:
        layout.label(text=f"{len(found) - PAGE} more: search", icon="VIEWZOOM")
    cap = preferences.get(context).history_cap_mb
    used = _cache["bytes"] / 1e6      # measured with the cached listing, not per redraw
    if used > cap:
        layout.operator("nanobanana.history_prune", icon="ERROR",
                        text=f"History uses {used:.0f} MB of {cap} MB: prune…")


class _EntryOperator:
    """Mixin: an operator acting on one saved result, named by `entry_id`."""
    entry_id: StringProperty()  # type: ignore[valid-type]

    def entry(self, context, *, needs_image: bool = False) -> Entry | None:
        """The entry, or None after reporting that it is gone."""
        entry = runtime.history(context).get(self.entry_id)
        if entry is None or (needs_image and entry.image_path is None):
            self.report({"ERROR"}, str(errors.entry_gone()))  # type: ignore[attr-defined]
            return None
        return entry


def image_for(entry: Entry) -> bpy.types.Image:
    """The packed image of an entry (reused when this file already has it)."""
    for img in bpy.data.images:
        if img.get(apply.ENTRY_KEY) == entry.id:  # type: ignore[func-returns-value]
            return img
    data = entry.image_path.read_bytes()  # type: ignore[union-attr]
    return apply.packed_image(apply.name_from_prompt(entry.prompt), data, entry.id, decode_check=True)


class NANOBANANA_OT_history_use(_EntryOperator, bpy.types.Operator):
    """Use a saved result: load it, apply it to the selected objects, or open it for editing"""
    bl_idname = "nanobanana.history_use"
    bl_label = "Use Saved Result"
    bl_options = {"REGISTER", "UNDO"}
    mode: EnumProperty(items=[("LOAD", "Load", "Load as an image"),  # type: ignore[valid-type]
                              ("MATERIAL", "Apply", "New material on the selected objects"),
                              ("EDIT", "Edit", "Show in the Image Editor to edit it further")],
                       default="LOAD")

    @classmethod
    def description(cls, context, properties):
        return {"LOAD": "Load this result as an image in the file",
                "MATERIAL": "Apply this result as a new material to the selected objects",
                "EDIT": "Show this result in the Image Editor to edit it further"}.get(properties.mode, "")

    def execute(self, context):
        entry = self.entry(context, needs_image=True)
        if entry is None:
            return {"CANCELLED"}
        try:
            img = image_for(entry)
        except Exception as exc:  # noqa: BLE001 - unreadable file edited by hand
            self.report({"ERROR"}, str(errors.entry_unloadable(exc)))
            return {"CANCELLED"}
        if self.mode == "MATERIAL":
            mat = apply.new_material(img.name, img)
            n = apply.assign_material(mat, context.selected_objects or [])
            self.report({"INFO"}, f"Applied to {n} object(s)")
        else:
            apply.show_in_image_editors(img)
            self.report({"INFO"}, f"Loaded {img.name}")
        return {"FINISHED"}


class NANOBANANA_OT_history_continue(_EntryOperator, bpy.types.Operator):
    """Make this result the one Refine continues from (its whole conversation is resent)"""
    bl_idname = "nanobanana.history_continue"
    bl_label = "Continue Refining"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        entry = self.entry(context, needs_image=True)
        if entry is None:
            return {"CANCELLED"}
        turns = runtime.history(context).load_turns(entry)
        if not turns:
            self.report({"ERROR"}, str(errors.entry_not_continuable()))
            return {"CANCELLED"}
        apply.show_in_image_editors(image_for(entry))
        st = runtime.STATE
        st.last_turns, st.last_model, st.last_target = turns, str(entry.meta.get("model")), ImageOnly()
        runtime.set_status("Type a follow-up instruction and press Refine Last.", "INFO")
        return {"FINISHED"}


class NANOBANANA_OT_history_recall(_EntryOperator, bpy.types.Operator):
    """Copy this result's prompt and settings back into the panel"""
    bl_idname = "nanobanana.history_recall"
    bl_label = "Recall Prompt and Settings"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        entry = self.entry(context)
        if entry is None:
            return {"CANCELLED"}
        model = str(entry.meta.get("model") or models.DEFAULT_MODEL)
        intents.recall_into_settings(context.scene.nanobanana, model, entry.prompt,
                                     entry.meta.get("settings") or {})
        if live_models.announce(model):
            self.report({"WARNING"}, runtime.STATE.status.text)
        else:
            self.report({"INFO"}, "Prompt and settings recalled")
        return {"FINISHED"}


class NANOBANANA_OT_history_delete(_EntryOperator, bpy.types.Operator):
    """Delete this saved result from disk (images already in a .blend stay there)"""
    bl_idname = "nanobanana.history_delete"
    bl_label = "Delete Saved Result"

    def invoke(self, context, event):
        return context.window_manager.invoke_confirm(self, event)

    def execute(self, context):
        if self.entry(context) is None:
            return {"CANCELLED"}
        runtime.history(context).delete(self.entry_id)
        invalidate()
        return {"FINISHED"}


class NANOBANANA_OT_history_prune(bpy.types.Operator):
    """Delete the oldest saved results until the history fits the size limit"""
    bl_idname = "nanobanana.history_prune"
    bl_label = "Prune History"

    def invoke(self, context, event):
        return context.window_manager.invoke_confirm(self, event)

    def execute(self, context):
        cap = preferences.get(context).history_cap_mb * 1_000_000
        removed = runtime.history(context).prune(cap)
        invalidate()
        self.report({"INFO"}, f"Deleted {len(removed)} oldest result(s)")
        return {"FINISHED"}


class NANOBANANA_OT_history_refresh(bpy.types.Operator):
    """Re-read the history folder"""
    bl_idname = "nanobanana.history_refresh"
    bl_label = "Refresh History"

    def execute(self, context):
        invalidate()
        return {"FINISHED"}


class NANOBANANA_OT_history_open_folder(bpy.types.Operator):
    """Open the history folder in the file manager"""
    bl_idname = "nanobanana.history_open_folder"
    bl_label = "Open History Folder"

    def execute(self, context):
        root = runtime.history_root(context)
        root.mkdir(parents=True, exist_ok=True)
        bpy.ops.wm.path_open(filepath=str(root))
        return {"FINISHED"}


CLASSES = (NANOBANANA_OT_history_use, NANOBANANA_OT_history_continue, NANOBANANA_OT_history_recall, NANOBANANA_OT_history_delete,
           NANOBANANA_OT_history_prune, NANOBANANA_OT_history_refresh, NANOBANANA_OT_history_open_folder)


def register() -> None:
    global _previews
    _previews = bpy.utils.previews.new()


def unregister() -> None:
    global _previews
    if _previews is not None:
        bpy.utils.previews.remove(_previews)
    _previews = None
    invalidate()
