"""Scene settings `scene.nanobanana` (the public scripting contract): prompt, model,
aspect ratio, size tier, thinking speed, variations, reference images, where results go.

The model is stored as its id (text), shown as an enum of the live models; a saved id
that is no longer offered stays visible as "retired" and is never rewritten silently.
Enum items for ratios and sizes come from the model catalog with stable numbers, and a
model switch adjusts what the new model does not take, saying so.
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

from ..core import errors, models, presets

ALL_RATIOS = ("AUTO",) + models.WIDE_RATIOS
CUSTOM, CUSTOM_NUMBER = "CUSTOM", 99
_items_cache: dict[tuple, list] = {}   # Blender needs enum item strings kept alive


def _cached(key: tuple, build) -> list:
    if key not in _items_cache:
        _items_cache[key] = build()
    return _items_cache[key]


def _size_number(size: str) -> int:
    """Stable enum numbers: 1K (the default) 0, 2K 1, 4K 2, 512 3, as in earlier files."""
    return (models.SIZE_ORDER.index(size) - 1) % len(models.SIZE_ORDER)


def model_items(self, context):
    """The live models (live list, else the catalog), the scene's own model if it is no
    longer offered (so it shows as retired instead of blank), and "Other model id…"."""
    from . import live_models
    saved = _saved_model(self)
    menu = live_models.menu()
    extra = () if saved in {m.id for m in menu} or saved == CUSTOM else (saved,)

    def build():
        items = [(m.id, m.label, f"{m.description} ({m.id})", m.number) for m in menu]
        for mid in extra:
            info, why = models.lookup(mid), live_models.gone(mid)
            label = info.label + (" (retired)" if info.retired else " (not offered)" if why else "")
            items.append((mid, label, str(why) if why else f"{info.description} ({mid})", info.number))
        items.append((CUSTOM, "Other model id…", "Type any Gemini image model id", CUSTOM_NUMBER))
        return items
    key = ("models", tuple(m.id for m in menu), tuple(m.label for m in menu), extra,
           live_models.live().fetched_at)
    return _cached(key, build)


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
        return [(s, s, f"{s} output" if info.image_sizes else f"{info.label} makes 1K images only",
                 _size_number(s)) for s in info.sizes]
    return _cached(("sizes", info.sizes, info.label), build)


def _saved_model(settings) -> str:
    """The chosen id; files from add-on 0.1 kept an enum number instead (read, never
    rewritten, so an old scene shows its retired model rather than a silent default)."""
    if settings.model_saved:
        return settings.model_saved
    try:
        legacy = settings.get("model")
    except (TypeError, KeyError):
        legacy = None
    if legacy == CUSTOM_NUMBER:
        return CUSTOM
    return models.LEGACY_ENUM.get(legacy, models.DEFAULT_MODEL) if isinstance(legacy, int) else models.DEFAULT_MODEL


def _get_model(self) -> int:
    saved = _saved_model(self)
    return CUSTOM_NUMBER if saved == CUSTOM else models.enum_number(saved)


def _set_model(self, value: int) -> None:
    if value == CUSTOM_NUMBER:
        set_model(self, CUSTOM)
        return
    for ident, _label, _desc, number in model_items(self, None):
        if number == value:
            set_model(self, ident)
            return


def _custom_model_changed(self, context) -> None:
    if _saved_model(self) == CUSTOM:
        _fit_to_model(self, self.custom_model.strip() or models.DEFAULT_MODEL)


def _fit_to_model(settings, new_model: str, old_ratio: str | None = None,
                  old_size: str | None = None) -> tuple[str, ...]:
    """Make ratio, size and reference count valid for `new_model`, visibly: the panel's
    status line (and scripts, through `runtime.STATE.status`) says what changed."""
    from . import runtime
    ratio = old_ratio if old_ratio is not None else (settings.aspect_ratio or "AUTO")
    size = old_size if old_size is not None else (settings.image_size or "1K")
    refs = sum(1 for r in settings.references if r.image is not None or r.filepath)
    fitted = models.fit(new_model, ratio, size, refs)
    settings.aspect_ratio = fitted.aspect_ratio or "AUTO"
    settings.image_size = fitted.image_size
    if fitted.changes:
        runtime.set_status(errors.settings_adjusted(models.label_of(new_model), fitted.changes), "WARNING")
    return fitted.changes


def set_model(settings, new_model: str) -> tuple[str, ...]:
    """Choose a model (an id, or CUSTOM) and adjust the settings it does not take."""
    old_ratio, old_size = settings.aspect_ratio or "AUTO", settings.image_size or "1K"
    settings.model_saved = new_model
    target = (settings.custom_model.strip() or models.DEFAULT_MODEL) if new_model == CUSTOM else new_model
    return _fit_to_model(settings, target, old_ratio, old_size)


# ---------------------------------------------------------------- materials (issue 12)
NO_PRESET = "NONE"
PRESET_ITEMS = [(NO_PRESET, "No preset", "The prompt as typed", 0)] + [
    (p.id, p.label, f"{p.subject}; a tile covers {p.scale}", i + 1) for i, p in enumerate(presets.PRESETS)]


def _write_prompt(settings, text: str) -> None:
    """Into the field the artist sees: the Text datablock when one is used, else the prompt."""
    if settings.prompt_text is not None:
        settings.prompt_text.clear()
        settings.prompt_text.write(text)
    else:
        settings.prompt = text


def _preset_changed(self, context) -> None:
    """Fill the preset's scaffolding into the prompt, visibly (the artist's words first);
    without the seamless sentence when the Seamless toggle adds its own wording."""
    words = presets.artist_words(prompt_of(self))
    if self.material_preset == NO_PRESET:
        text = words
    else:
        text = presets.build_prompt(self.material_preset, words, seamless=not self.seamless)
    _write_prompt(self, text)


def _seamless_changed(self, context) -> None:
    current = prompt_of(self)
    text = presets.with_seamless_sentence(current, not self.seamless)
    if text != current:
        _write_prompt(self, text)


def _tile_size_changed(self, context) -> None:
    from . import materials
    materials.update_tile_size(self.tile_size)


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
        items=model_items, name="Model", get=_get_model, set=_set_model,
        description="The Gemini image model (the list comes from your key when online)")
    # The chosen id as text: enum numbers must not turn a saved model into another one
    # when Google's lineup changes between sessions.
    model_saved: StringProperty(options={"HIDDEN"})  # type: ignore[valid-type]
    custom_model: StringProperty(  # type: ignore[valid-type]
        name="Model id", description="Any Gemini image model id, e.g. a newer release",
        update=_custom_model_changed)
    speed: EnumProperty(  # type: ignore[valid-type]
        name="Thinking",
        items=[("FAST", "Fast", "Less thinking: quicker and cheaper"),
               ("BEST", "Best", "More thinking: better layout and text, slower")],
        default="FAST", description="How much the model thinks first (models that take it)")
    aspect_ratio: EnumProperty(items=ratio_items, name="Aspect Ratio")  # type: ignore[valid-type]
    image_size: EnumProperty(items=size_items, name="Size")  # type: ignore[valid-type]
    variations: IntProperty(  # type: ignore[valid-type]
        name="Variations", default=1, min=1, max=8,
        description="Independent images requested in parallel (each is billed)")
    pick_variation: BoolProperty(  # type: ignore[valid-type]
        name="Pick a Variation", default=True,
        description="With 2 or more variations for a material or texture, show them to pick one "
                    "before the material changes (off: the first is applied at once)")
    seamless: BoolProperty(  # type: ignore[valid-type]
        name="Seamless Texture", default=False, update=_seamless_changed,
        description="A tileable texture: asked for, then checked and fixed until the edges wrap")
    seamless_fix: EnumProperty(  # type: ignore[valid-type]
        name="Fix Seams",
        items=[("LOCAL", "Blend locally (free)", "If the result does not tile, cross-blend its edges "
                "offline: free, the centre keeps the model's pixels", 0),
               ("MODEL", "Repair with the model (priced)", "If the result does not tile, send its seam "
                "cross back for repair: one more billed request per image, then a local blend "
                "if it still does not tile", 1)],
        default="LOCAL", description="What makes a Seamless result tile when the model's answer does not")
    tile_size: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Tile Size", default=1.0, min=0.01, soft_max=10.0, subtype="DISTANCE", unit="LENGTH",
        update=_tile_size_changed,
        description="Real-world width one tile of a seamless texture covers (updates the Mapping "
                    "node of every material Nano Banana made)")
    material_preset: EnumProperty(  # type: ignore[valid-type]
        name="Material Preset", items=PRESET_ITEMS, default=NO_PRESET, update=_preset_changed,
        description="Fill prompt wording for a PBR-ready albedo of this material into the prompt")
    pbr_ao: BoolProperty(  # type: ignore[valid-type]
        name="Ambient Occlusion", default=False,
        description="Also make a cavity AO map (added as an unconnected image node)")
    pbr_strength: bpy.props.FloatProperty(  # type: ignore[valid-type]
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
    mask_feather: bpy.props.FloatProperty(  # type: ignore[valid-type]
        name="Feather (0: auto)", default=0.0, min=0.0, max=256.0, subtype="PIXEL",
        description="Soft edge of the mask in pixels (0: automatic, about 0.5 % of the size)")
    references: CollectionProperty(type=NanoBananaReference)  # type: ignore[valid-type]
    reference_index: IntProperty()  # type: ignore[valid-type]
    show_advanced: BoolProperty(name="More", default=False)  # type: ignore[valid-type]
    gallery_search: StringProperty(name="Search", options={"TEXTEDIT_UPDATE"})  # type: ignore[valid-type]
    gallery_this_file: BoolProperty(name="This file only", default=False)  # type: ignore[valid-type]
    file_cost_usd: bpy.props.FloatProperty(name="Spent in this file", default=0.0)  # type: ignore[valid-type]
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


# Plain functions, not @property on the PropertyGroup: a Python property on a registered
# PropertyGroup makes Blender 4.2 crash at exit after the extension is uninstalled.
def model_id(settings) -> str:
    """The model to use: the chosen one, or the typed id for "Other"."""
    saved = _saved_model(settings)
    if saved == CUSTOM:
        return settings.custom_model.strip() or models.DEFAULT_MODEL
    return saved


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
