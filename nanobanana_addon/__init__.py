"""Nano Banana for Blender: Gemini image generation in Blender's sidebar.

register() / unregister() only. Enabling imports nothing heavy: google-genai and Pillow
load on first use. The bpy layer is imported here, on register, so `core` stays
importable (and testable) without Blender.
"""
from __future__ import annotations


def register() -> None:
    from .blender import registration
    registration.register()


def unregister() -> None:
    from .blender import registration
    registration.unregister()
