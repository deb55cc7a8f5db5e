"""Declaration of Preferences → Test Key; its code is `blender/key_check.py`."""
import bpy

from ..lazy import behaviour


@behaviour("key_check:TestKey", "execute")
class NANOBANANA_OT_test_key(bpy.types.Operator):
    """Check the API key with Gemini (lists the image models it may use)"""
    bl_idname = "nanobanana.test_key"
    bl_label = "Test Key"


CLASSES = (NANOBANANA_OT_test_key,)
