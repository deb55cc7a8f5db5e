"""Add-on preferences (stored in Blender's userpref.blend, never in a .blend file):
API key, endpoint, timeout, history folder and size cap, optional Vertex AI project."""
from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

ADDON_ID = __package__.rpartition(".")[0]   # bl_ext.<repo>.nanobanana
KEY_PAGE = "https://aistudio.google.com/apikey"


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

    def draw(self, context):
        from . import key_check
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        if not bpy.app.online_access:
            box = layout.box()
            box.label(text="Online access is disabled: Nano Banana cannot reach Gemini.", icon="ERROR")
            box.operator("nanobanana.enable_online_access", icon="URL")
        col = layout.column()
        col.prop(self, "api_key")
        row = col.row(align=True)
        row.operator("wm.url_open", text="Get a Free Key", icon="URL").url = KEY_PAGE
        row.operator("nanobanana.test_key", icon="CHECKMARK")
        text, level = key_check.answer()
        if text:
            col.label(text=text, icon={"ERROR": "CANCEL", "WORKING": "SORTTIME"}.get(level, "CHECKMARK"))
        if not self.api_key:
            col.label(text="Empty: GEMINI_API_KEY or GOOGLE_API_KEY from the environment is used.",
                      icon="INFO")
        col.separator()
        col.prop(self, "history_location")
        col.prop(self, "history_cap_mb")
        col.separator()
        row = layout.row()
        row.use_property_split = False
        row.prop(self, "show_advanced", icon="TRIA_DOWN" if self.show_advanced else "TRIA_RIGHT",
                 emboss=False)
        col = layout.column()
        if self.show_advanced:
            box = col.box()
            box.prop(self, "timeout_s")
            box.prop(self, "base_url")
            box.label(text="Studios: use Vertex AI (Google Cloud) instead of an API key")
            box.prop(self, "vertex_project")
            box.prop(self, "vertex_location")


def get(context=None) -> NANOBANANA_AP_preferences:
    context = context or bpy.context
    return context.preferences.addons[ADDON_ID].preferences


CLASSES = (NANOBANANA_AP_preferences,)
