"""The history gallery: thumbnails of saved results (bpy.utils.previews), search and filter,
pages of results, and one-click actions per entry: load, apply to the selection, send to
the Image Editor, recall the prompt and settings, delete, open the folder, prune beyond the
size limit.

Drawing reads one page from the history index (core/history_index.py), and only when the
search, filter, page or index changed: never a sidecar, never a folder scan. Looking for
hand edits and rebuilding the index run on a worker thread; a timer redraws the panel when
they change something. Thumbnails are loaded for the rows shown and freed when they leave.

Blender registers the operators' thin declarations (classes/gallery.py); the classes here
hold their code and load with this module on the first draw or click (lazy.py). The
thumbnail collection is made on first use too, and freed by `release()` at disable."""
from __future__ import annotations

from typing import TYPE_CHECKING

import bpy

from ..core import errors, models
from . import preferences

if TYPE_CHECKING:
    from ..core.history import Entry

PAGE = 8
# Wake the index's worker from the timer tick (the UI), or at once where no timer runs
# (background mode: scripts, tests, the benchmark, which calls _poll() itself).
WAKE_NOW = bpy.app.background
COUNT_CAP = 1000     # a search counts its matches up to here (then "1,000+"): keystrokes stay fast
POLL_S = 0.25
_previews = None     # bpy.utils.previews collection, made by _thumbnails() on first use
# What the panel shows: the page of entries for `key` = (query, offset, index generation).
_view: dict = {"key": None, "query": None, "offset": 0, "entries": [], "count": 0, "bytes": 0,
               "indexing": False, "index": None, "check": True}


def invalidate(check: bool = True) -> None:
    """Re-read the page at the next draw and, with `check`, look for changes made on disk
    behind our back (off the main thread)."""
    _view["key"] = None
    _view["check"] = _view["check"] or check


def _listing(context) -> dict:
    from . import runtime
    s = context.scene.nanobanana
    hist = runtime.history(context)
    blend = bpy.data.filepath if s.gallery_this_file else None
    query = (str(hist.root), s.gallery_search, blend)
    if query != _view["query"]:
        _view["query"], _view["offset"] = query, 0
    index = hist.index
    if _view["check"] or index is not _view["index"]:
        _view["check"], _view["index"] = False, index
        hist.index.refresh(wake=WAKE_NOW)    # hand edits, another Blender, a missing index
        _watch()
    key = (query, _view["offset"], index.generation)
    what = {"search": s.gallery_search, "blend_file": blend, "with_images_only": True}
    if _view["key"] != key:
        # A keystroke's frame reads the page; the count (as costly as the page for a word
        # most prompts hold) comes in the next frame, which it asks for (count None).
        found = hist.page_only(**what, offset=_view["offset"], limit=PAGE)
        count = None if len(found) == PAGE or _view["offset"] else len(found)
        if not found and _view["offset"]:          # the last page emptied: step back
            count = hist.count(**what, count_cap=COUNT_CAP)   # (none while indexing: stay)
            if count:
                _view["offset"] = max(0, (count - 1) // PAGE * PAGE)
                found, count = hist.page(**what, offset=_view["offset"], limit=PAGE, count_cap=COUNT_CAP)
        _view.update(key=(query, _view["offset"], index.generation), entries=found, count=count,
                     bytes=hist.totals()[1], indexing=hist.indexing)
        _keep_previews({e.id for e in found})
    elif _view["count"] is None:
        _view["count"] = hist.count(**what, offset=_view["offset"], count_cap=COUNT_CAP)
    return _view


def entries(context) -> list[Entry]:
    """The entries shown now (one page)."""
    return _listing(context)["entries"]


def _keep_previews(ids: set[str]) -> None:
    """Free the thumbnails of rows no longer shown."""
    if _previews is None:
        return
    for name in [n for n in _previews if n not in ids]:
        del _previews[name]


def _thumbnails():
    """The thumbnail collection, made on first use (enabling the add-on makes none)."""
    global _previews
    if _previews is None:
        from bpy.utils import previews
        _previews = previews.new()
    return _previews


def icon_for(entry: Entry) -> int:
    thumbs = _thumbnails()
    if entry.id not in thumbs:
        path = entry.image_path
        if path is None:
            return 0
        thumbs.load(entry.id, str(path), "IMAGE")
    return thumbs[entry.id].icon_id


def _redraw() -> None:
    wm = bpy.context.window_manager
    for window in wm.windows if wm else ():
        for area in window.screen.areas:
            if area.type in {"VIEW_3D", "IMAGE_EDITOR", "NODE_EDITOR"}:
                area.tag_redraw()


def _poll() -> float | None:
    """Timer: wake the index's worker, then while it works redraw when the index changed."""
    index = _view["index"]
    if index is None:
        return None
    index.wake()
    key = _view["key"]
    if key is None or key[2] != index.generation:
        _redraw()
    return POLL_S if index.busy else None


def _watch() -> None:
    # persistent: a timer that a file load drops is never released by bpy 4.5, which then
    # keeps the bpy module alive at exit and hangs there; we unregister it ourselves.
    if not bpy.app.timers.is_registered(_poll):
        bpy.app.timers.register(_poll, first_interval=POLL_S, persistent=True)


def _redraw_soon() -> None:
    """Ask for the frame that shows the count: _redraw from a one-shot timer (tagging a
    redraw while drawing is not reliable)."""
    if not bpy.app.background and not bpy.app.timers.is_registered(_redraw):
        bpy.app.timers.register(_redraw, first_interval=0.0)


def draw(layout, context) -> None:
    from . import history_rows
    s = context.scene.nanobanana
    row = layout.row(align=True)
    row.prop(s, "gallery_search", text="", icon="VIEWZOOM")
    row.prop(s, "gallery_this_file", text="", icon="FILE_BLEND")
    row.operator("nanobanana.history_refresh", text="", icon="FILE_REFRESH")
    row.operator("nanobanana.history_open_folder", text="", icon="FILEBROWSER")
    view = _listing(context)
    found, count, offset = view["entries"], view["count"], view["offset"]
    if count is None:                   # counted in the next frame
        _redraw_soon()
    if view["indexing"]:
        layout.label(text=errors.history_indexing(count or 0), icon="SORTTIME")
    elif not found:
        layout.label(text=errors.history_empty(bool(s.gallery_search.strip())))
    for entry in found:
        history_rows.draw_entry(layout, context, entry, icon_for(entry))
    if count is None or count > PAGE:
        nav = layout.row(align=True)
        prev = nav.row(align=True)
        prev.enabled = offset > 0
        prev.operator("nanobanana.history_page", text="", icon="TRIA_LEFT").step = -1
        searched = any(c.isalnum() for c in s.gallery_search)     # a search counts up to the cap
        more = count is not None and searched and count > offset + COUNT_CAP
        nav.label(text=errors.history_page(offset + 1, offset + len(found), count if not more else offset + COUNT_CAP,
                                           more))
        nxt = nav.row(align=True)
        nxt.enabled = count is None or offset + PAGE < count
        nxt.operator("nanobanana.history_page", text="", icon="TRIA_RIGHT").step = 1
    cap = preferences.get(context).history_cap_mb
    used = view["bytes"] / 1e6      # from the index's running totals, not measured per redraw
    if used > cap:
        layout.operator("nanobanana.history_prune", icon="ERROR", text=errors.history_over_cap(used, cap))


# ---------------------------------------------------------------- operators' code
class _EntryOperator:
    """Base: an operator acting on one saved result, named by `entry_id`."""
    entry_id: str

    def entry(self, context, *, needs_image: bool = False) -> Entry | None:
        """The entry, or None after reporting that it is gone."""
        from . import runtime
        entry = runtime.history(context).get(self.entry_id)
        if entry is None or (needs_image and entry.image_path is None):
            self.report({"ERROR"}, str(errors.entry_gone()))  # type: ignore[attr-defined]
            return None
        return entry


def image_for(entry: Entry) -> bpy.types.Image:
    """The packed image of an entry (reused when this file already has it)."""
    from . import apply
    for img in bpy.data.images:
        if img.get(apply.ENTRY_KEY) == entry.id:  # type: ignore[func-returns-value]
            return img
    data = entry.image_path.read_bytes()  # type: ignore[union-attr]
    return apply.packed_image(apply.name_from_prompt(entry.prompt), data, entry.id, decode_check=True)


class HistoryUse(_EntryOperator):

    @classmethod
    def description(cls, context, properties):
        return {"LOAD": "Load this result as an image in the file",
                "MATERIAL": "Apply this result as a new material to the selected objects",
                "EDIT": "Show this result in the Image Editor to edit it further"}.get(properties.mode, "")

    def execute(self, context):
        from . import apply
        entry = self.entry(context, needs_image=True)
        if entry is None:
            return {"CANCELLED"}
        try:
            img = image_for(entry)
        except Exception as exc:  # noqa: BLE001 - unreadable file edited by hand
            self.report({"ERROR"}, str(errors.entry_unloadable(exc)))
            return {"CANCELLED"}
        from . import texturing
        bake = texturing.bake_info(entry.meta) if self.mode == "MATERIAL" else None
        if bake is not None:                # a baked texture: back on its object's UVs
            try:
                names = texturing.reapply_bake(context, bake, img)
            except errors.NanoBananaError as exc:
                self.report({"ERROR"}, str(exc))
                return {"CANCELLED"}
            self.report({"INFO"}, errors.bake_reapplied(names))
        elif self.mode == "MATERIAL":
            mat = apply.new_material(img.name, img)
            n = apply.assign_material(mat, context.selected_objects or [])
            self.report({"INFO"}, f"Applied to {n} object(s)")
        else:
            apply.show_in_image_editors(img)
            self.report({"INFO"}, f"Loaded {img.name}")
        return {"FINISHED"}


class HistoryContinue(_EntryOperator):

    def execute(self, context):
        from . import apply, intents, runtime
        from .targets import ImageOnly
        entry = self.entry(context, needs_image=True)
        if entry is None:
            return {"CANCELLED"}
        turns = runtime.history(context).load_turns(entry)
        if not turns:
            self.report({"ERROR"}, str(errors.entry_not_continuable()))
            return {"CANCELLED"}
        apply.show_in_image_editors(image_for(entry))
        st = runtime.STATE
        st.last_turns, st.last_model, st.last_target = turns, str(entry.meta.get("model")), ImageOnly()
        st.last_mask = intents.mask_of_entry(entry)        # a masked result: Refine keeps its region
        runtime.set_status("Type a follow-up instruction and press Refine Last.", "INFO")
        return {"FINISHED"}


class HistoryRecall(_EntryOperator):

    def execute(self, context):
        from . import intents, live_models, runtime
        entry = self.entry(context)
        if entry is None:
            return {"CANCELLED"}
        model = str(entry.meta.get("model") or models.DEFAULT_MODEL)
        intents.recall_into_settings(context.scene.nanobanana, model, entry.prompt,
                                     entry.meta.get("settings") or {}, entry=entry)
        from . import texturing
        texturing.recall_bake_settings(context.scene.nanobanana, entry.meta)
        if live_models.announce(model):
            self.report({"WARNING"}, runtime.STATE.status.text)
        else:
            self.report({"INFO"}, "Prompt and settings recalled")
        return {"FINISHED"}


class HistoryDelete(_EntryOperator):

    def invoke(self, context, event):
        return context.window_manager.invoke_confirm(self, event)

    def execute(self, context):
        from . import runtime
        if self.entry(context) is None:
            return {"CANCELLED"}
        runtime.history(context).delete(self.entry_id, later=True, wake=WAKE_NOW)  # blobs: on the worker
        _watch()
        if _previews is not None and self.entry_id in _previews:
            del _previews[self.entry_id]
        invalidate(check=False)          # the index knows: it was told by delete()
        return {"FINISHED"}


class HistoryPrune:

    def invoke(self, context, event):
        return context.window_manager.invoke_confirm(self, event)

    def execute(self, context):
        from . import runtime
        cap = preferences.get(context).history_cap_mb * 1_000_000
        removed = runtime.history(context).prune(cap)
        invalidate()
        self.report({"INFO"}, f"Deleted {len(removed)} oldest result(s)")
        return {"FINISHED"}


class HistoryRefresh:

    def execute(self, context):
        from . import runtime
        runtime.history(context).refresh(full=True)
        invalidate()
        return {"FINISHED"}


class HistoryPage:

    def execute(self, context):
        count = _view["count"]
        if count is None:              # not counted yet (the frame after a keystroke does)
            count = _view["offset"] + PAGE * 2
        offset = _view["offset"] + self.step * PAGE
        _view["offset"] = max(0, min(offset, (count - 1) // PAGE * PAGE if count else 0))
        return {"FINISHED"}


class HistoryOpenFolder:

    def execute(self, context):
        from . import runtime
        root = runtime.history_root(context)
        root.mkdir(parents=True, exist_ok=True)
        bpy.ops.wm.path_open(filepath=str(root))
        return {"FINISHED"}


def release() -> None:
    """At disable (classes/gallery.unregister, when this module was loaded): stop the timer,
    free the thumbnails, forget the page shown."""
    global _previews
    if bpy.app.timers.is_registered(_poll):
        bpy.app.timers.unregister(_poll)
    if _previews is not None:
        from bpy.utils import previews
        previews.remove(_previews)
    _previews = None
    _view.update(key=None, query=None, offset=0, entries=[], index=None, check=True)
