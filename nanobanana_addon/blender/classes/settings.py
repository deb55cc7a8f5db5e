"""Declaration of the scene settings `scene.nanobanana` (the public scripting contract);
their callbacks and the model/ratio/size/preset logic are `blender/properties.py`.

Every property name, type, default and enum identifier/number is the one scripts and
saved .blend files know. Enums whose items come from the model catalog or the preset
list are `items=` callbacks (same identifiers, same numbers), so declaring them needs no
`core` module; a dynamic enum's default is its number (the preset "NONE" is 0).
"""
import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from ..lazy import function


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
    model: EnumProperty(  # type: ignore[valid-type]
        items=function("properties:model_items", 2), name="Model",
        get=function("properties:_get_model", 1), set=function("properties:_set_model", 2),
        description="The Gemini image model (the list comes from your key when online)")
    # The chosen id as text: enum numbers must not turn a saved model into another one
    # when Google's lineup changes between sessions.
    model_saved: StringProperty(options={"HIDDEN"})  # type: ignore[valid-type]
    custom_model: StringProperty(  # type: ignore[valid-type]
        name="Model id", description="Any Gemini image model id, e.g. a newer release",
        update=function("properties:_custom_model_changed", 2))
    speed: EnumProperty(  # type: ignore[valid-type]
        name="Thinking",
        items=[("FAST", "Fast", "Less thinking: quicker and cheaper"),
               ("BEST", "Best", "More thinking: better layout and text, slower")],
        default="FAST", description="How much the model thinks first (models that take it)")
    aspect_ratio: EnumProperty(  # type: ignore[valid-type]
        items=function("properties:ratio_items", 2), name="Aspect Ratio")
    image_size: EnumProperty(  # type: ignore[valid-type]
        items=function("properties:size_items", 2), name="Size")
    variations: IntProperty(  # type: ignore[valid-type]
        name="Variations", default=1, min=1, max=8,
        description="Independent images requested in parallel (each is billed)")
    pick_variation: BoolProperty(  # type: ignore[valid-type]
        name="Pick a Variation", default=True,
        description="With 2 or more variations for a material or texture, show them to pick one "
                    "before the material changes (off: the first is applied at once)")
    seamless: BoolProperty(  # type: ignore[valid-type]
        name="Seamless Texture", default=False, update=function("properties:_seamless_changed", 2),
        description="A tileable texture: asked for, then checked and fixed until the edges wrap")
    seamless_fix: EnumProperty(  # type: ignore[valid-type]
        name="Fix Seams",
        items=[("LOCAL", "Blend locally (free)", "If the result does not tile, cross-blend its edges "
                "offline: free, the centre keeps the model's pixels", 0),
               ("MODEL", "Repair with the model (priced)", "If the result does not tile, send its seam "
                "cross back for repair: one more billed request per image, then a local blend "
                "if it still does not tile", 1)],
        default="LOCAL", description="What makes a Seamless result tile when the model's answer does not")
    tile_size: FloatProperty(  # type: ignore[valid-type]
        name="Tile Size", default=1.0, min=0.01, soft_max=10.0, subtype="DISTANCE", unit="LENGTH",
        update=function("properties:_tile_size_changed", 2),
        description="Real-world width one tile of a seamless texture covers (updates the Mapping "
                    "node of every material Nano Banana made)")
    material_preset: EnumProperty(  # type: ignore[valid-type]
        name="Material Preset", items=function("properties:preset_items", 2),
        default=0,                  # properties.NO_PRESET: a dynamic enum's default is its number
        update=function("properties:_preset_changed", 2),
        description="Fill prompt wording for a PBR-ready albedo of this material into the prompt")
    pbr_ao: BoolProperty(  # type: ignore[valid-type]
        name="Ambient Occlusion", default=False,
        description="Also make a cavity AO map (added as an unconnected image node)")
    pbr_strength: FloatProperty(  # type: ignore[valid-type]
        name="Normal Strength", default=1.0, min=0.0, soft_max=4.0,
        description="Relief of the derived normal map (1: about 1 cm over a 1 m tile)")
    result_target: EnumProperty(  # type: ignore[valid-type]
        name="Result",
        items=[("MATERIAL", "Material on selection", "New material with the image, assigned "
                                                     "to the selected objects"),
               ("IMAGE", "Image only", "Only create the image (shown in Image Editors)")],
        default="MATERIAL")
    render_source: EnumProperty(  # type: ignore[valid-type]
        name="Source",
        items=[("VIEWPORT", "Viewport", "What the 3D viewport shows (overlays off)"),
               ("CAMERA", "Camera render", "A fast Workbench render of the active camera"),
               ("RENDER_RESULT", "Last render (F12)", "The final render you made last, as shown "
                                                      "(with the scene's view transform)")],
        default="VIEWPORT")
    use_mask: BoolProperty(  # type: ignore[valid-type]
        name="Mask", default=False,
        description="Edit only where the mask is white; every other pixel stays exactly as it is")
    mask_image: PointerProperty(  # type: ignore[valid-type]
        type=bpy.types.Image, name="Mask Image",
        description="White = change, black = keep (paint it in the Image Editor)")
    mask_feather: FloatProperty(  # type: ignore[valid-type]
        name="Feather (0: auto)", default=0.0, min=0.0, max=256.0, subtype="PIXEL",
        description="Soft edge of the mask in pixels (0: automatic, about 0.5 % of the size)")
    references: CollectionProperty(type=NanoBananaReference)  # type: ignore[valid-type]
    reference_index: IntProperty()  # type: ignore[valid-type]
    show_advanced: BoolProperty(name="More", default=False)  # type: ignore[valid-type]
    gallery_search: StringProperty(name="Search", options={"TEXTEDIT_UPDATE"})  # type: ignore[valid-type]
    gallery_this_file: BoolProperty(name="This file only", default=False)  # type: ignore[valid-type]
    file_cost_usd: FloatProperty(name="Spent in this file", default=0.0)  # type: ignore[valid-type]
    texture_views: IntProperty(  # type: ignore[valid-type]
        name="Views", default=4, min=2, max=8,
        description="Views around the selection for Texture All Around (4: front, right, back, "
                    "left; 5 adds the top, 6 the bottom; each view is one request)")
    bake_size: EnumProperty(  # type: ignore[valid-type]
        name="Bake Size",
        items=[("1K", "1K", "Bake into a 1024 x 1024 texture"),
               ("2K", "2K", "Bake into a 2048 x 2048 texture"),
               ("4K", "4K", "Bake into a 4096 x 4096 texture (slower, more memory)")],
        default="2K", description="Size of the texture the projection is baked into")


CLASSES = (NanoBananaReference, NanoBananaSettings)


def register_props() -> None:
    bpy.types.Scene.nanobanana = PointerProperty(type=NanoBananaSettings)  # type: ignore[func-returns-value]


def unregister_props() -> None:
    del bpy.types.Scene.nanobanana
