"""Scene settings `scene.nanobanana` (the public scripting contract): prompt, model,
aspect ratio, size tier, variations, reference images, where results go.

Enum items for ratios and sizes come from the model catalog; each item keeps a stable
number so switching models never silently turns one value into another.
"""
from __future__ import annotations

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from ..core import models

ALL_RATIOS = ("AUTO",) + models.STANDARD_RATIOS + models.EXTREME_RATIOS
ALL_SIZES = ("1K", "2K", "4K", "512")   # item numbers: 1K (the default) is 0
_items_cache: dict[tuple, list] = {}   # Blender needs enum item strings kept alive


def _cached(key: tuple, build) -> list:
    if key not in _items_cache:
        _items_cache[key] = build()
    return _items_cache[key]


def model_items(self, context):
    def build():
        items = [(m.id, m.label, f"{m.description} ({m.id})", i) for i, m in enumerate(models.CATALOG)]
        items.append(("CUSTOM", "Other model id…", "Type any Gemini image model id", 99))
        return items
    return _cached(("models",), build)


def ratio_items(self, context):
    info = models.lookup(model_id(self))

    def build():
        items = [("AUTO", "Auto", "Fit the render resolution or the source image", 0)]
        items += [(r, r, f"Aspect ratio {r}", ALL_RATIOS.index(r)) for r in info.aspect_ratios]
        return items
    return _cached(("ratios", info.aspect_ratios), build)


def size_items(self, context):
    info = models.lookup(model_id(self))

    def build():
        sizes = info.image_sizes or ("1K",)
        return [(s, s, f"{s} output" if info.image_sizes else "This model makes 1K images only",
                 ALL_SIZES.index(s)) for s in sizes]
    return _cached(("sizes", info.image_sizes), build)


class NanoBananaReference(bpy.types.PropertyGroup):
    image: PointerProperty(type=bpy.types.Image, name="Image")  # type: ignore[valid-type]
    filepath: StringProperty(name="File", subtype="FILE_PATH")  # type: ignore[valid-type]


class NanoBananaSettings(bpy.types.PropertyGroup):
    prompt: StringProperty(  # type: ignore[valid-type]
        name="Prompt", description="What to generate, or how to change the image",
        options={"TEXTEDIT_UPDATE"})
    prompt_text: PointerProperty(  # type: ignore[valid-type]
        type=bpy.types.Text, name="Prompt Text",
        description="Use a Text datablock as the prompt (for long prompts)")
    model: EnumProperty(items=model_items, name="Model")  # type: ignore[valid-type]
    custom_model: StringProperty(  # type: ignore[valid-type]
        name="Model id", description="Any Gemini image model id, e.g. a newer release")
    aspect_ratio: EnumProperty(items=ratio_items, name="Aspect Ratio")  # type: ignore[valid-type]
    image_size: EnumProperty(items=size_items, name="Size")  # type: ignore[valid-type]
    variations: IntProperty(  # type: ignore[valid-type]
        name="Variations", default=1, min=1, max=8,
        description="Independent images requested in parallel (each is billed)")
    seamless: BoolProperty(  # type: ignore[valid-type]
        name="Seamless Texture", default=False,
        description="Ask for a tileable texture: wrapping edges, flat even light, no perspective")
    result_target: EnumProperty(  # type: ignore[valid-type]
        name="Result",
        items=[("MATERIAL", "Material on selection", "New material with the image, assigned "
                                                     "to the selected objects"),
               ("IMAGE", "Image only", "Only create the image (shown in Image Editors)")],
        default="MATERIAL")
    render_source: EnumProperty(  # type: ignore[valid-type]
        name="Source",
        items=[("VIEWPORT", "Viewport", "What the 3D viewport shows (overlays off)"),
               ("CAMERA", "Camera render", "A fast Workbench render of the active camera")],
        default="VIEWPORT")
    references: CollectionProperty(type=NanoBananaReference)  # type: ignore[valid-type]
    reference_index: IntProperty()  # type: ignore[valid-type]
    show_advanced: BoolProperty(name="More", default=False)  # type: ignore[valid-type]
    gallery_search: StringProperty(name="Search", options={"TEXTEDIT_UPDATE"})  # type: ignore[valid-type]
    gallery_this_file: BoolProperty(name="This file only", default=False)  # type: ignore[valid-type]
    file_cost_usd: bpy.props.FloatProperty(name="Spent in this file", default=0.0)  # type: ignore[valid-type]


# Plain functions, not @property on the PropertyGroup: a Python property on a registered
# PropertyGroup makes Blender 4.2 crash at exit after the extension is uninstalled.
def model_id(settings) -> str:
    """The model to use: the chosen catalog entry, or the typed id for "Other"."""
    if settings.model == "CUSTOM":
        return settings.custom_model.strip() or models.DEFAULT_MODEL
    return settings.model or models.DEFAULT_MODEL


def prompt_of(settings) -> str:
    """The prompt: the Text datablock when one is set (long prompts), else the field."""
    if settings.prompt_text is not None:
        return settings.prompt_text.as_string().strip()
    return settings.prompt.strip()


CLASSES = (NanoBananaReference, NanoBananaSettings)


def register_props() -> None:
    bpy.types.Scene.nanobanana = PointerProperty(type=NanoBananaSettings)  # type: ignore[func-returns-value]


def unregister_props() -> None:
    del bpy.types.Scene.nanobanana
