"""Nano Banana for Blender: Gemini image generation in Blender's sidebar.

register() / unregister() only. Enabling imports nothing heavy: google-genai and Pillow
load on first use, in the worker thread or the capture code.
"""
from __future__ import annotations

from .blender import registration


def register() -> None:
    registration.register()


def unregister() -> None:
    registration.unregister()
