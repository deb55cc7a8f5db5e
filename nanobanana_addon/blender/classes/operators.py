"""Declarations of the request and small operators; their code is `blender/operators.py`."""
import bpy
from bpy.props import IntProperty, StringProperty

from ..lazy import behaviour

_SUBMIT = ("poll", "execute")


@behaviour("operators:Generate", *_SUBMIT)
class NANOBANANA_OT_generate(bpy.types.Operator):
    """Generate new image(s) from the prompt (and reference images)"""
    bl_idname = "nanobanana.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER"}


@behaviour("operators:EditRender", *_SUBMIT)
class NANOBANANA_OT_edit_render(bpy.types.Operator):
    """Send the viewport (or a camera render) with the prompt as an edit instruction"""
    bl_idname = "nanobanana.edit_render"
    bl_label = "Edit Render"
    bl_options = {"REGISTER"}


@behaviour("operators:EditTexture", *_SUBMIT)
class NANOBANANA_OT_edit_texture(bpy.types.Operator):
    """Edit the selected texture with the prompt; the result goes back on the same node"""
    bl_idname = "nanobanana.edit_texture"
    bl_label = "Edit Texture"
    bl_options = {"REGISTER"}


@behaviour("operators:DismissStatus", "execute")
class NANOBANANA_OT_dismiss_status(bpy.types.Operator):
    """Hide this message"""
    bl_idname = "nanobanana.dismiss_status"
    bl_label = "Dismiss"


@behaviour("operators:Refine", *_SUBMIT)
class NANOBANANA_OT_refine(bpy.types.Operator):
    """Continue editing the last result with the prompt as a follow-up instruction"""
    bl_idname = "nanobanana.refine"
    bl_label = "Refine Last"
    bl_options = {"REGISTER"}


@behaviour("operators:Cancel", "execute")
class NANOBANANA_OT_cancel(bpy.types.Operator):
    """Cancel a running generation (all when no job is given)"""
    bl_idname = "nanobanana.cancel"
    bl_label = "Cancel"
    bl_options = {"REGISTER"}
    job_id: IntProperty(default=0)  # type: ignore[valid-type]


@behaviour("operators:RevertTexture", "execute")
class NANOBANANA_OT_revert_texture(bpy.types.Operator):
    """Put the original image back on the active Image Texture node"""
    bl_idname = "nanobanana.revert_texture"
    bl_label = "Revert to Original"
    bl_options = {"REGISTER", "UNDO"}


@behaviour("operators:OpenPreferences", "execute")
class NANOBANANA_OT_open_preferences(bpy.types.Operator):
    """Open the add-on preferences (API key)"""
    bl_idname = "nanobanana.open_preferences"
    bl_label = "Open Preferences"


@behaviour("operators:EnableOnlineAccess", "execute")
class NANOBANANA_OT_enable_online_access(bpy.types.Operator):
    """Allow Blender to use the internet (needed to reach Gemini)"""
    bl_idname = "nanobanana.enable_online_access"
    bl_label = "Enable Online Access"


@behaviour("operators:SwitchModel", "execute")
class NANOBANANA_OT_switch_model(bpy.types.Operator):
    """Switch to another model"""
    bl_idname = "nanobanana.switch_model"
    bl_label = "Switch Model"
    model: StringProperty()  # type: ignore[valid-type]


@behaviour("operators:RefreshModels", "execute")
class NANOBANANA_OT_refresh_models(bpy.types.Operator):
    """Ask Gemini which image models your key can use now (the list is kept for a day)"""
    bl_idname = "nanobanana.refresh_models"
    bl_label = "Refresh Model List"


@behaviour("operators:ReferenceAdd", "execute")
class NANOBANANA_OT_reference_add(bpy.types.Operator):
    """Add a reference image slot"""
    bl_idname = "nanobanana.reference_add"
    bl_label = "Add Reference"
    bl_options = {"REGISTER", "UNDO"}


@behaviour("operators:ReferenceRemove", "execute")
class NANOBANANA_OT_reference_remove(bpy.types.Operator):
    """Remove the selected reference image slot"""
    bl_idname = "nanobanana.reference_remove"
    bl_label = "Remove Reference"
    bl_options = {"REGISTER", "UNDO"}


CLASSES = (NANOBANANA_OT_generate, NANOBANANA_OT_edit_render, NANOBANANA_OT_edit_texture,
           NANOBANANA_OT_refine, NANOBANANA_OT_dismiss_status, NANOBANANA_OT_cancel, NANOBANANA_OT_revert_texture,
           NANOBANANA_OT_open_preferences, NANOBANANA_OT_enable_online_access,
           NANOBANANA_OT_switch_model, NANOBANANA_OT_refresh_models, NANOBANANA_OT_reference_add,
           NANOBANANA_OT_reference_remove)
