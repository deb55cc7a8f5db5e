"""Preview before apply (issue 15): when a job with 2 or more variations lands for a material
or a texture node, the material does not change yet. The variations wait here as thumbnails
(in the sidebar, and in a popup the editor headers offer); picking one places it through the
job's own Target (one undo step) and makes it the image Refine continues from. All of them
are packed in the file and saved in History either way. Main thread only.

The hook: `NewMaterial.place` / `ReplaceNode.place` (targets.py) call `hold(target, images)`
first; it keeps the images and returns True when a pick is wanted, so the pump's landing
(pump.py) is unchanged. `scene.nanobanana.pick_variation` off keeps the old behaviour: the
first variation is applied at once.

The registered operators are declared in classes/variations.py, which also adds the
header button and the file-load handler; this module loads when a job first lands with
variations (targets.py), or the first time one of them is used.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import bpy

from ..core import errors

MAX_SHOWN = 8           # variations go up to 8 (properties.variations)


@dataclass
class Pending:
    """Variations of one job waiting for the artist's pick."""
    target: object                      # the job's Target (a frozen dataclass of names)
    entry_ids: list[str]                # history entry of each variation, in order
    names: list[str]                    # image names when they landed (fallback lookup)
    where: str                          # "'Cube'", "material 'Wall'": for the words
    paths: dict[int, str] = field(default_factory=dict)   # thumbnails' history files


_pending: list[Pending] = []
_previews = None        # bpy.utils.previews collection, made for the first thumbnail


def enabled() -> bool:
    scene = getattr(bpy.context, "scene", None) or (bpy.data.scenes[0] if bpy.data.scenes else None)
    settings = getattr(scene, "nanobanana", None)
    return bool(getattr(settings, "pick_variation", True))


def pending() -> list[Pending]:
    """What waits to be picked, oldest first (scripts and tests read this)."""
    return _pending


def _where(target) -> str:
    from . import apply
    objects = [o for o in (apply.resolve(bpy.data.objects, r) for r in getattr(target, "objects", ())) if o]
    if objects:
        return f"'{objects[0].name}'" if len(objects) == 1 else f"{len(objects)} objects"
    mat = apply.resolve(bpy.data.materials, getattr(target, "material", "") or "")
    if mat is not None:
        return f"material '{mat.name}'"
    return "the selection"


def hold(target, images: list[bpy.types.Image]) -> bool:
    """Called first by the targets that change a material. True: the images are kept for a
    pick and nothing else must happen now; False: place them as before."""
    from . import apply, runtime
    if len(images) < 2 or not enabled():
        return False
    ids = [str(img.get(apply.ENTRY_KEY, "")) for img in images]  # type: ignore[func-returns-value]
    p = Pending(target, ids, [img.name for img in images], _where(target))
    hist = runtime.history()
    for k, entry_id in enumerate(ids[:MAX_SHOWN]):
        entry = hist.get(entry_id) if entry_id else None
        if entry is not None and entry.image_path is not None:
            p.paths[k] = str(entry.image_path)
    _pending.append(p)
    if images:
        apply.show_in_image_editors(images[0])
    return True


def image_of(p: Pending, index: int) -> bpy.types.Image | None:
    """The packed image of variation `index` (after an undo removed it: read back from History)."""
    from . import apply, runtime
    entry_id = p.entry_ids[index]
    for img in bpy.data.images:
        if entry_id and img.get(apply.ENTRY_KEY) == entry_id:  # type: ignore[func-returns-value]
            return img
    if not entry_id:
        return bpy.data.images.get(p.names[index])
    entry = runtime.history().get(entry_id)
    if entry is None or entry.image_path is None:
        return None
    from . import gallery
    return gallery.image_for(entry)


def _icon(p: Pending, index: int) -> int:
    global _previews
    path = p.paths.get(index)
    if not path:
        return 0
    if _previews is None:
        from bpy.utils import previews
        _previews = previews.new()
    key = f"{p.entry_ids[index]}:{index}"
    if key not in _previews:
        _previews.load(key, path, "IMAGE")
    return _previews[key].icon_id


def _forget(p: Pending) -> None:
    if p in _pending:
        _pending.remove(p)
    if _previews is not None:
        for k in range(len(p.entry_ids)):
            key = f"{p.entry_ids[k]}:{k}"
            if key in _previews:
                del _previews[key]


def draw(layout, context) -> None:
    """The result area: thumbnails of each waiting job's variations, a Use button under each."""
    for slot in range(len(_pending) - 1, -1, -1):          # the newest first
        draw_one(layout, context, slot)


def draw_one(layout, context, slot: int) -> None:
    from . import ui_text
    p = _pending[slot]
    n = min(len(p.entry_ids), MAX_SHOWN)
    box = layout.box()
    col = box.column(align=True)
    width = ui_text.available(context)
    for i, line in enumerate(ui_text.wrap(errors.variation_pick_title(len(p.entry_ids), p.where), width)):
        col.label(text=line, icon="IMAGE_DATA" if i == 0 else "BLANK1")
    cols = 2 if n in (2, 4) else 3
    cell = ui_text.available(context, 70) / cols
    scale = max(2.0, min(6.0, (cell - 12) / 20))           # template_icon: 20 px per unit
    for first in range(0, n, cols):     # rows of columns (grid_flow mis-sizes big icons)
        row = box.row()
        for k in range(first, first + cols):
            cell_col = row.column(align=True)
            if k >= n:                  # keep the cells of a short last row the same width
                cell_col.label(text="")
                continue
            icon = _icon(p, k)
            if icon:
                cell_col.template_icon(icon_value=icon, scale=scale)
            op = cell_col.operator("nanobanana.pick_variation", text=f"Use {k + 1}")
            op.index, op.slot = k, slot
    row = box.row()
    row.operator("nanobanana.keep_variations", text="Keep All as Images", icon="X").slot = slot


class _SlotOperator:
    """`self.slot`: which waiting job (-1: the newest); `self.index`: which variation."""

    def pending_one(self) -> Pending | None:
        try:
            p = _pending[self.slot]
        except IndexError:
            p = None
        if p is None or self.index >= len(p.entry_ids):
            self.report({"ERROR"}, str(errors.variation_gone()))  # type: ignore[attr-defined]
            return None
        return p


class PickVariation(_SlotOperator):
    def execute(self, context):
        from . import runtime
        p = self.pending_one()
        if p is None:
            return {"CANCELLED"}
        img = image_of(p, self.index)
        if img is None:
            self.report({"ERROR"}, str(errors.entry_gone()))
            return {"CANCELLED"}
        try:
            note = p.target.place([img])  # type: ignore[attr-defined]  # one image: never held
        except Exception as exc:  # noqa: BLE001 - nothing applied; the variations stay waiting
            self.report({"ERROR"}, errors.apply_failed(exc))
            return {"CANCELLED"}
        _forget(p)
        entry = runtime.history(context).get(p.entry_ids[self.index]) if p.entry_ids[self.index] else None
        turns = runtime.history(context).load_turns(entry) if entry is not None else None
        if turns:                       # Refine continues from the picked variation
            runtime.STATE.last_turns = turns
            runtime.STATE.last_model = str(entry.meta.get("model") or runtime.STATE.last_model)  # type: ignore[union-attr]
        runtime.STATE.last_target = p.target  # type: ignore[assignment]
        text = errors.variation_picked(self.index + 1, p.where)
        level = "WARNING" if note else "INFO"
        runtime.set_status(f"{text} {note}." if note else text, level)
        self.report({level}, runtime.STATE.status.text)
        return {"FINISHED"}


class KeepVariations:
    def execute(self, context):
        try:
            _forget(_pending[self.slot])
        except IndexError:
            return {"CANCELLED"}
        return {"FINISHED"}


class ShowVariations:
    def invoke(self, context, event):
        from . import ui_text
        if not _pending:
            return {"CANCELLED"}
        return context.window_manager.invoke_popup(self, width=int(420 * ui_text._scale()))

    def draw(self, context):
        from . import ui_text
        draw_one(self.layout, _PopupContext(context, 420 * ui_text._scale()), len(_pending) - 1)

    def execute(self, context):
        return {"FINISHED"}


class _PopupContext:
    """The context with the popup's width as the region's (ui_text measures the region)."""

    def __init__(self, context, width: float):
        self._context = context
        self.region = type("Region", (), {"width": width})()

    def __getattr__(self, name):
        return getattr(self._context, name)


def header(layout) -> None:
    """A header button that opens the pick popup (header_progress.py draws it)."""
    if _pending:
        layout.operator("nanobanana.show_variations", text=f"Pick a Variation ({len(_pending[-1].entry_ids)})",
                        icon="IMAGE_DATA")


def on_load_post() -> None:
    """A file was opened (classes/variations.py's handler, when this module is loaded)."""
    for p in list(_pending):        # their images and targets belonged to the old file
        _forget(p)


def release() -> None:
    """The add-on is disabled (classes/variations.py): nothing waits, thumbnails freed."""
    global _previews
    _pending.clear()
    if _previews is not None:
        from bpy.utils import previews
        previews.remove(_previews)
    _previews = None
