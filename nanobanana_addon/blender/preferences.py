"""Add-on preferences (stored in Blender's userpref.blend, never in a .blend file):
API key, endpoint, timeout, history folder and size cap, optional Vertex AI project.
`get()` reads them; `classes/preferences.py` declares them; `Preferences` draws them."""
from __future__ import annotations

from typing import TYPE_CHECKING

import bpy

if TYPE_CHECKING:
    from .classes.preferences import NANOBANANA_AP_preferences

ADDON_ID = __package__.rpartition(".")[0]   # bl_ext.<repo>.nanobanana
KEY_PAGE = "https://aistudio.google.com/apikey"


class Preferences:
    """What the preferences panel draws (`classes/preferences.py` declares the properties)."""

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

