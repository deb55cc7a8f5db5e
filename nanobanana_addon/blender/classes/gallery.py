"""Declarations of the History operators; their code is `blender/gallery.py` (loaded on the
first draw or click). unregister() frees what the gallery made, if it was ever loaded."""

import bpy
from bpy.props import EnumProperty, IntProperty, StringProperty

from ..lazy import behaviour, loaded


class _Entry:
    """An operator acting on one saved result, named by `entry_id`."""
    entry_id: StringProperty()  # type: ignore[valid-type]


@behaviour("gallery:HistoryUse", "description", "execute")
class NANOBANANA_OT_history_use(_Entry, bpy.types.Operator):
    """Use a saved result: load it, apply it to the selected objects, or open it for editing"""
    bl_idname = "nanobanana.history_use"
    bl_label = "Use Saved Result"
    bl_options = {"REGISTER", "UNDO"}
    mode: EnumProperty(items=[("LOAD", "Load", "Load as an image"),  # type: ignore[valid-type]
                              ("MATERIAL", "Apply", "New material on the selected objects"),
                              ("EDIT", "Edit", "Show in the Image Editor to edit it further")],
                       default="LOAD")


@behaviour("gallery:HistoryContinue", "execute")
class NANOBANANA_OT_history_continue(_Entry, bpy.types.Operator):
    """Make this result the one Refine continues from (its whole conversation is resent)"""
    bl_idname = "nanobanana.history_continue"
    bl_label = "Continue Refining"
    bl_options = {"REGISTER", "UNDO"}


@behaviour("gallery:HistoryRecall", "execute")
class NANOBANANA_OT_history_recall(_Entry, bpy.types.Operator):
    """Copy this result's prompt and settings back into the panel"""
    bl_idname = "nanobanana.history_recall"
    bl_label = "Recall Prompt and Settings"
    bl_options = {"REGISTER", "UNDO"}


@behaviour("gallery:HistoryDelete", "invoke", "execute")
class NANOBANANA_OT_history_delete(_Entry, bpy.types.Operator):
    """Delete this saved result from disk (images already in a .blend stay there)"""
    bl_idname = "nanobanana.history_delete"
    bl_label = "Delete Saved Result"


@behaviour("gallery:HistoryPrune", "invoke", "execute")
class NANOBANANA_OT_history_prune(bpy.types.Operator):
    """Delete the oldest saved results until the history fits the size limit"""
    bl_idname = "nanobanana.history_prune"
    bl_label = "Prune History"


@behaviour("gallery:HistoryRefresh", "execute")
class NANOBANANA_OT_history_refresh(bpy.types.Operator):
    """Look through the history folder again for results added, changed or removed by hand"""
    bl_idname = "nanobanana.history_refresh"
    bl_label = "Refresh History"


@behaviour("gallery:HistoryPage", "execute")
class NANOBANANA_OT_history_page(bpy.types.Operator):
    """Show newer or older saved results"""
    bl_idname = "nanobanana.history_page"
    bl_label = "Page Through History"
    step: IntProperty(default=1)  # type: ignore[valid-type]


@behaviour("gallery:HistoryOpenFolder", "execute")
class NANOBANANA_OT_history_open_folder(bpy.types.Operator):
    """Open the history folder in the file manager"""
    bl_idname = "nanobanana.history_open_folder"
    bl_label = "Open History Folder"


CLASSES = (NANOBANANA_OT_history_use, NANOBANANA_OT_history_continue, NANOBANANA_OT_history_recall,
           NANOBANANA_OT_history_delete, NANOBANANA_OT_history_prune, NANOBANANA_OT_history_refresh,
           NANOBANANA_OT_history_page, NANOBANANA_OT_history_open_folder)


def unregister() -> None:
    """Nothing to set up at enable (thumbnails are made on first use); at disable stop the
    gallery's timer and free its thumbnails if it was loaded, and close the history index."""
    gallery = loaded("blender.gallery")
    if gallery is not None:
        gallery.release()
    index_module = loaded("core.history_index")
    if index_module is not None:          # loaded only once the history was used
        index_module.close_all()
