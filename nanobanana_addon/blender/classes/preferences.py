"""Declaration of the add-on preferences (stored in Blender's userpref.blend, never in a
.blend file); their panel's drawing is `blender/preferences.py`, loaded when it is shown."""
import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from ..lazy import behaviour

ADDON_ID = __package__.rsplit(".", 2)[0]    # bl_ext.<repo>.nanobanana (as preferences.ADDON_ID)


@behaviour("preferences:Preferences", "draw")
class NANOBANANA_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_ID

    api_key: StringProperty(  # type: ignore[valid-type]
        name="Gemini API Key", subtype="PASSWORD",
        description="Your Gemini API key (aistudio.google.com). Stored in Blender's "
                    "preferences, never in .blend files. Empty: GEMINI_API_KEY / GOOGLE_API_KEY")
    base_url: StringProperty(  # type: ignore[valid-type]
        name="Endpoint", default="",
        description="Custom API endpoint (proxy). Empty: GOOGLE_GEMINI_BASE_URL or Google's")
    timeout_s: FloatProperty(  # type: ignore[valid-type]
        name="Timeout (s)", default=180.0, min=10.0, max=900.0,
        description="Longest wait for one request to Gemini, retries included")
    history_location: EnumProperty(  # type: ignore[valid-type]
        name="Save results",
        items=[("USER", "Add-on folder", "Keep every result in the add-on's user folder"),
               ("BLEND", "Next to the .blend", "Keep results in a 'nanobanana' folder beside "
                                               "the saved .blend (falls back to the add-on "
                                               "folder while the file is unsaved)")],
        default="USER")
    history_cap_mb: IntProperty(  # type: ignore[valid-type]
        name="History size limit (MB)", default=2000, min=50,
        description="The panel offers to prune the oldest results beyond this size. Nothing "
                    "is deleted without asking")
    vertex_project: StringProperty(  # type: ignore[valid-type]
        name="Vertex AI project", default="",
        description="Use Vertex AI with application-default credentials instead of an API key")
    vertex_location: StringProperty(  # type: ignore[valid-type]
        name="Vertex AI location", default="global")

    show_advanced: BoolProperty(name="Advanced", default=False)  # type: ignore[valid-type]


CLASSES = (NANOBANANA_AP_preferences,)
