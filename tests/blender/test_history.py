"""Issue 5 in Blender: nothing is lost. Results are in the gallery after the file is closed
unsaved, and come back in one click; recall, delete, a hand-edited folder."""
from __future__ import annotations

import sys
from pathlib import Path

import bpy
from helpers import addon_module, assert_pixels_match, runtime, wait_until
from ui_double import Layout


def _draw_gallery(frames: int = 2):
    """What the panel shows after `frames` redraws: a new search or page shows its rows in
    the first frame and its count in the next (which the first asks for)."""
    for _ in range(frames):
        layout = Layout()
        addon_module("gallery").draw(layout, bpy.context)
    return layout


def _entry_for(prompt: str):
    hist = runtime().history()
    return next(e for e in hist.entries() if e.prompt == prompt)


def test_result_survives_closing_unsaved_and_applies_in_one_click(fake, scene):
    scene.nanobanana.prompt = "gallery test: rusty iron plates"
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    seed = fake.generate_requests[-1].seed
    bpy.ops.wm.read_homefile(use_empty=True)            # closed without saving
    assert not [i for i in bpy.data.images]
    addon_module("gallery").invalidate()
    drawn = _draw_gallery()
    assert "gallery test: rusty iron plates" in drawn.labels
    entry = _entry_for("gallery test: rusty iron plates")
    assert ("nanobanana.history_use", "entry_id", entry.id) in drawn.op_props
    bpy.ops.mesh.primitive_plane_add()
    plane = bpy.context.active_object
    plane.select_set(True)
    assert bpy.ops.nanobanana.history_use(entry_id=entry.id, mode="MATERIAL") == {"FINISHED"}
    img = next(n for n in plane.active_material.node_tree.nodes if n.type == "TEX_IMAGE").image
    assert img["nanobanana_entry"] == entry.id and img.packed_file is not None
    assert_pixels_match(img, seed)


def test_recall_puts_prompt_and_settings_back(fake, scene):
    s = scene.nanobanana
    s.prompt, s.model, s.aspect_ratio, s.image_size = "recall me", "gemini-3-pro-image", "4:3", "2K"
    s.result_target, s.seamless = "IMAGE", True
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    entry = _entry_for("recall me")
    s.prompt, s.model, s.aspect_ratio, s.seamless = "something else", "gemini-3.1-flash-lite-image", "AUTO", False
    assert bpy.ops.nanobanana.history_recall(entry_id=entry.id) == {"FINISHED"}
    assert (s.prompt, s.model, s.aspect_ratio, s.image_size, s.seamless) == (
        "recall me", "gemini-3-pro-image", "4:3", "2K", True)


def test_delete_and_hand_edited_folder(fake, scene):
    scene.nanobanana.prompt = "delete me"
    scene.nanobanana.result_target = "IMAGE"
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    entry = _entry_for("delete me")
    root = Path(runtime().history_root())
    (entry.sidecar.parent / "corrupt.json").write_text("{{{")
    (root / "README.txt").write_text("someone's notes")
    addon_module("gallery").invalidate()
    assert "delete me" in _draw_gallery().labels
    assert bpy.ops.nanobanana.history_delete(entry_id=entry.id) == {"FINISHED"}
    assert "delete me" not in _draw_gallery().labels
    assert not entry.sidecar.exists()


def test_gallery_search_and_this_file_filter(fake, scene, tmp_path):
    s = scene.nanobanana
    s.result_target = "IMAGE"
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "filtered.blend"))
    s = bpy.context.scene.nanobanana
    s.prompt = "only in this file: marble"
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    s.gallery_this_file = True
    labels = _draw_gallery().labels
    assert "only in this file: marble" in labels and "gallery test: rusty iron plates" not in labels
    s.gallery_this_file = False
    s.gallery_search = "MARBLE"
    assert [t for t in _draw_gallery().labels if "marble" in t] == ["only in this file: marble"]


def test_actions_on_a_vanished_entry_explain_instead_of_failing(fake, scene):
    from helpers import expect_error
    for op in (bpy.ops.nanobanana.history_use, bpy.ops.nanobanana.history_continue,
               bpy.ops.nanobanana.history_recall, bpy.ops.nanobanana.history_delete):
        expect_error(op, "gone from the history folder", entry_id="20990101-000000-abcdef")


def test_pages_free_thumbnails_and_a_missing_index_is_rebuilt_in_the_background(fake, scene):
    from conftest import MODULE
    gallery = addon_module("gallery")
    s = scene.nanobanana
    s.prompt, s.result_target, s.variations = "pager test tile", "IMAGE", 4
    for _ in range(5):
        assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    s.variations, s.gallery_search = 1, "pager"

    def shown(frames=2):
        drawn = _draw_gallery(frames)
        ids = [v for op, name, v in drawn.op_props if op == "nanobanana.history_delete"]
        return drawn, ids

    drawn, rows_first = shown(frames=1)          # the keystroke's frame: rows, the count next
    assert "1–8 of …" in drawn.labels and len(rows_first) == 8
    drawn, first = shown(frames=1)
    assert first == rows_first
    assert "1–8 of 20" in drawn.labels and len(first) == 8
    assert sorted(gallery._previews.keys()) == sorted(first)          # thumbnails of the rows shown
    assert bpy.ops.nanobanana.history_page(step=1) == {"FINISHED"}
    drawn, second = shown()
    assert "9–16 of 20" in drawn.labels and not set(first) & set(second)
    assert sorted(gallery._previews.keys()) == sorted(second)         # the first page's are freed
    assert bpy.ops.nanobanana.history_delete(entry_id=second[0]) == {"FINISHED"}
    assert second[0] not in gallery._previews
    drawn, after = shown()
    assert "9–16 of 19" in drawn.labels and second[0] not in after

    # The index is lost (deleted by hand): the panel stays usable and says it is indexing
    # while a worker thread rebuilds it from the sidecars.
    index_module = sys.modules[f"{MODULE}.core.history_index"]
    index_module.close_all()
    root = Path(runtime().history_root())
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (root / name).unlink(missing_ok=True)
    index = runtime().history().index
    with index._sync_lock:                                            # hold the worker back
        gallery.invalidate()
        assert "Indexing history…" in _draw_gallery().labels
    assert wait_until(lambda: not index.busy)
    drawn, rebuilt = shown()
    assert "Indexing history…" not in drawn.labels and "9–16 of 19" in drawn.labels, drawn.labels[-6:]   # same page
    assert rebuilt == after
    s.gallery_search = ""
