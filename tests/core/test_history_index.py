"""The history index (SQLite) answers what the folder holds: rebuilt from the sidecars when
missing, broken or old, in step with hand edits, searchable, filtered by file, safe to
write from job threads while the panel reads."""
from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time

import pytest
from conftest import png

from nanobanana_addon.core import history, history_index
from nanobanana_addon.core.request import GenerationRequest, GenerationResult, OutputImage, Usage


def result(color=(200, 30, 30)) -> GenerationResult:
    return GenerationResult(model="gemini-nano-banana-2.1", images=[OutputImage(png(16, 16, color=color), "image/png", 16, 16)],
                            text="ok", usage=Usage(10, 1290, 0, 1300), cost_usd=0.039)


def record(h: history.History, prompt: str, *, model="gemini-nano-banana-2.1", blend="", image=True):
    req = GenerationRequest(model=model, prompt=prompt)
    if image:
        return h.record(req, result=result(), blend_file=blend)
    from nanobanana_addon.core import errors
    return h.record(req, error=errors.text_only("?"), blend_file=blend)


def new_session(root) -> history.History:
    """What a restart of Blender does to the index: nothing kept in memory."""
    history_index.close_all()
    return history.History(root)


def wait_idle(h: history.History, timeout=10.0) -> None:
    deadline = time.monotonic() + timeout
    while h.index.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not h.index.busy


@pytest.fixture(autouse=True)
def _fresh_registry():
    yield
    history_index.close_all()


def test_rebuilt_from_the_sidecars_when_missing_off_the_calling_thread(tmp_path):
    h = history.History(tmp_path)
    made = []
    for i in range(30):
        made.append(record(h, f"brick wall {i}", blend="a.blend" if i % 3 == 0 else ""))
    h = new_session(tmp_path)
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"index.sqlite{suffix}").unlink(missing_ok=True)
    h.refresh()                              # returns at once: the panel says "Indexing history…"
    assert h.indexing
    wait_idle(h)
    assert not h.indexing
    page, count = h.page(limit=8)
    assert count == 30 and [e.id for e in page] == [e.id for e in reversed(made)][:8]
    assert page[0].prompt == "brick wall 29" and page[0].image_path is not None
    assert page[0].meta["usage"]["output_tokens"] == 1290        # the sidecar, read on demand
    assert h.page(blend_file="a.blend", limit=100)[1] == 10


def test_hand_edits_are_picked_up(tmp_path):
    h = history.History(tmp_path)
    keep, drop, lose_image = (record(h, p) for p in ("kept", "sidecar deleted by hand", "image deleted by hand"))
    assert len(h.entries()) == 3
    drop.sidecar.unlink()
    drop.image_path.unlink()
    lose_image.image_path.unlink()
    meta = json.loads(keep.sidecar.read_text())
    meta.update(id="20200101-000000-abcdef", prompt="copied in by hand", created_ts=1577836800.0)
    (tmp_path / "20200101").mkdir()
    (tmp_path / "20200101" / "20200101-000000-abcdef.json").write_text(json.dumps(meta))
    shutil.copy(keep.image_path, tmp_path / "20200101" / meta["image_file"])
    (keep.sidecar.parent / "broken.json").write_text("{not json")
    # The panel's way: refresh in the background, then read.
    h.refresh()
    wait_idle(h)
    shown = [e.prompt for e in h.page(with_images_only=True, limit=10)[0]]
    assert shown == ["kept", "copied in by hand"]
    assert [e.prompt for e in h.entries()] == ["image deleted by hand", "kept", "copied in by hand"]
    # A whole day folder removed by hand.
    shutil.rmtree(tmp_path / "20200101")
    assert [e.prompt for e in h.entries(search="copied")] == []


def test_a_sidecar_rewritten_in_place_is_seen_after_refresh(tmp_path):
    h = history.History(tmp_path)
    entry = record(h, "old words")
    assert h.entries(search="old")
    meta = json.loads(entry.sidecar.read_text())
    meta["prompt"] = "new words and a longer prompt"
    entry.sidecar.write_text(json.dumps(meta))   # the folder's mtime does not change: the quick check misses it
    h.refresh(full=True)                          # the panel's Refresh button
    wait_idle(h)
    assert [e.prompt for e in h.page(search="new")[0]] == ["new words and a longer prompt"]
    assert h.page(search="old")[1] == 0


@pytest.mark.parametrize("kind", ["fts5", "fts4", "fts3", "like"])
def test_search_as_you_type_on_prompt_and_model(tmp_path, monkeypatch, kind):
    # Blender's SQLite may lack FTS5 (or any FTS): every fallback answers the same.
    monkeypatch.setattr(history_index, "_FTS", tuple(f for f in history_index._FTS if f[0] == kind))
    h = history.History(tmp_path)
    record(h, "Mossy stone wall, seamless")
    record(h, "rusty metal plates", model="gemini-3-pro-image")
    record(h, "Café façade at dusk", model="gemini-3.1-flash-lite-image")
    found = lambda text: sorted(e.prompt for e in h.page(search=text, limit=10)[0])  # noqa: E731
    assert found("m") == ["Mossy stone wall, seamless", "rusty metal plates"]
    assert found("MOS") == found("moss") == found("stone mossy") == ["Mossy stone wall, seamless"]
    assert found("stone rusty") == []                          # every word must match
    assert found("pro") == ["rusty metal plates"]              # the model's name ("Nano Banana Pro")
    assert found("flash-lite") == found("lite") == ["Café façade at dusk"]
    assert found("cafe facade") == ["Café façade at dusk"]     # accents do not matter
    assert len(found("")) == len(found("  ,; ")) == 3
    assert found('"or') == [] and found("AND NOT") == []       # query syntax is just text
    assert h.page(search="wall", limit=10)[1] == 1
    assert h.index.fts == ("" if kind == "like" else kind)
    record(h, "mossy failure", image=False, blend="x.blend")
    assert h.page(search="moss", limit=10)[1] == 2
    assert [e.prompt for e in h.page(search="moss", with_images_only=True, limit=10)[0]] == ["Mossy stone wall, seamless"]
    assert [e.prompt for e in h.page(search="moss", blend_file="x.blend", limit=10)[0]] == ["mossy failure"]


def test_this_file_only_and_totals(tmp_path):
    h = history.History(tmp_path)
    a = [record(h, f"a{i}", blend="/p/a.blend") for i in range(3)]
    record(h, "b", blend="/p/b.blend")
    record(h, "failed", blend="/p/a.blend", image=False)
    entries, count = h.page(blend_file="/p/a.blend", with_images_only=True, limit=2)
    assert count == 3 and [e.id for e in entries] == [a[2].id, a[1].id]
    assert h.page(blend_file="/p/a.blend", with_images_only=True, offset=2, limit=2)[0][0].id == a[0].id
    assert h.page(blend_file="/p/a.blend", limit=10)[1] == 4
    on_disk = sum(p.stat().st_size for p in tmp_path.glob("*/*") if p.is_file())
    assert h.total_bytes() == on_disk


def test_delete_updates_listing_totals_and_disk(tmp_path):
    h = history.History(tmp_path)
    first, second = record(h, "first"), record(h, "second")
    before = h.total_bytes()
    assert h.delete(first.id)
    assert not first.sidecar.exists() and not (first.sidecar.with_suffix(".png")).exists()
    entries, count = h.page(limit=10)
    assert count == 1 and [e.id for e in entries] == [second.id]
    assert h.total_bytes() < before and not h.delete(first.id)


def test_record_from_threads_while_the_panel_reads(tmp_path):
    h = history.History(tmp_path)
    record(h, "seed")
    errors: list[BaseException] = []

    def worker(n):
        try:
            for i in range(25):
                record(history.History(tmp_path), f"thread {n} image {i}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    seen: list[int] = []
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):      # the panel redrawing meanwhile
        page, count = h.page(search="image", limit=8)
        created = [e.created for e in page]
        assert created == sorted(created, reverse=True) and len(page) == min(8, count)
        seen.append(count)
    for t in threads:
        t.join()
    assert errors == []
    assert seen == sorted(seen)                               # counts only grow
    assert h.page(search="image", limit=8)[1] == 100
    assert {e.prompt for e in h.entries()} == {"seed"} | {f"thread {n} image {i}" for n in range(4) for i in range(25)}


def test_corrupt_or_old_index_is_rebuilt(tmp_path):
    h = history.History(tmp_path)
    for i in range(5):
        record(h, f"tile {i}")
    history_index.close_all()
    (tmp_path / "index.sqlite").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"index.sqlite{suffix}").unlink(missing_ok=True)
    h = history.History(tmp_path)
    assert len(h.entries(search="tile")) == 5
    history_index.close_all()
    with sqlite3.connect(tmp_path / "index.sqlite") as conn:          # an index of another version
        conn.execute("pragma user_version = 999")
    conn.close()
    h = history.History(tmp_path)
    assert h.page(limit=10)[1] == 0 and h.indexing                    # unknown schema: start over
    assert len(h.entries()) == 5
    with sqlite3.connect(tmp_path / "index.sqlite") as conn:
        assert conn.execute("pragma user_version").fetchone()[0] == history_index.SCHEMA


def test_a_broken_index_never_costs_a_result(tmp_path):
    h = history.History(tmp_path)
    record(h, "before")
    history_index.close_all()
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"index.sqlite{suffix}").unlink(missing_ok=True)
    (tmp_path / "index.sqlite").mkdir()            # cannot be opened, cannot be deleted
    (tmp_path / "index.sqlite" / "x").write_text("")
    h = history.History(tmp_path)
    entry = record(h, "after")
    assert entry.image_path is not None
    assert {e.prompt for e in h.entries()} == {"before", "after"}


def test_the_panel_delete_collects_unused_blobs_on_the_worker(tmp_path):
    from nanobanana_addon.core.request import Part, Turn
    h = history.History(tmp_path)
    shared, own = png(9, 9, color=(1, 2, 3)), png(9, 9, color=(4, 5, 6))

    def with_refs(*refs):
        res = result()
        res.turns = [Turn("user", tuple(Part(data=r, mime_type="image/png") for r in refs)),
                     Turn("model", (Part(data=res.images[0].data, mime_type="image/png"),))]
        return h.record(GenerationRequest(model="gemini-nano-banana-2.1", prompt="p"), result=res)

    a, b = with_refs(shared, own), with_refs(shared)
    assert len(list((tmp_path / "blobs").iterdir())) == 2
    assert h.delete(a.id, later=True)
    wait_idle(h)
    assert len(list((tmp_path / "blobs").iterdir())) == 1          # `own` went, `shared` is b's
    assert h.load_turns(h.get(b.id)) is not None
    h.delete(b.id, later=True)
    wait_idle(h)
    assert list((tmp_path / "blobs").iterdir()) == []
