"""The behaviour of the scene settings `scene.nanobanana` (the public scripting contract,
declared in `classes/settings.py`): prompt, model, aspect ratio, size tier, thinking speed,
variations, reference images, where results go. Loaded on the first draw or callback.

The model is stored as its id (text), shown as an enum of the live models; a saved id
that is no longer offered stays visible as "retired" and is never rewritten silently.
Enum items for ratios and sizes come from the model catalog with stable numbers, and a
model switch adjusts what the new model does not take, saying so.
"""
from __future__ import annotations

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


def preset_items(self, context):
    """The material presets (numbers as saved: "No preset" 0, then the list order)."""
    return PRESET_ITEMS


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
