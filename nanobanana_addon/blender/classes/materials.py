"""Declaration of the PBR maps operator; its code (and the NumPy guard) is
`blender/material_ops.py`, loaded on the first call."""
import bpy

from ..lazy import behaviour


@behaviour("material_ops:PbrMaps", "execute")
class NANOBANANA_OT_pbr_maps(bpy.types.Operator):
    """Derive height, normal and roughness maps (optionally AO) from the active texture and
    wire them into its material. Free and offline (NumPy, no request)"""
    bl_idname = "nanobanana.pbr_maps"
    bl_label = "PBR Maps from Texture"
    bl_options = {"REGISTER"}


CLASSES = (NANOBANANA_OT_pbr_maps,)
