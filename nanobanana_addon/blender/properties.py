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

from ..core import errors, models

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
