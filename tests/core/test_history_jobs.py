"""History on disk (atomic, tolerant, searchable, prunable, no key) and the job manager."""
from __future__ import annotations

import errno
import json
import os
import threading
import time

import pytest
from conftest import KEY, png

from nanobanana_addon.core import errors, history, pipeline
from nanobanana_addon.core.client import ClientConfig
from nanobanana_addon.core.jobs import Job, JobManager
from nanobanana_addon.core.request import GenerationRequest, GenerationResult, InputImage, OutputImage, Usage


def result(data: bytes | None = None) -> GenerationResult:
    data = data or png(16, 16)
    return GenerationResult(model="gemini-nano-banana-2.1", images=[OutputImage(data, "image/png", 16, 16)],
                            text="ok", usage=Usage(10, 1290, 0, 1300), cost_usd=0.039)


def request(prompt="stone wall") -> GenerationRequest:
    return GenerationRequest(model="gemini-nano-banana-2.1", prompt=prompt,
                             images=[InputImage(png(40, 40), "image/png", "edit", "wall.png")])


def test_record_writes_image_and_sidecar(tmp_path):
    h = history.History(tmp_path)
    entry = h.record(request(), result=result(), blend_file="/p/scene.blend")
    assert entry.image_path is not None and entry.image_path.read_bytes()[:4] == b"\x89PNG"
    meta = json.loads(entry.sidecar.read_text())
    assert meta["prompt"] == "stone wall" and meta["cost_usd"] == 0.039 and meta["usage"]["output_tokens"] == 1290
    assert meta["inputs"][0]["name"] == "wall.png" and len(meta["inputs"][0]["sha256"]) == 64
    assert meta["inputs"][0]["thumbnail_png"] and meta["blend_file"] == "/p/scene.blend"
    assert h.entries()[0].id == entry.id


def test_failures_are_recorded_without_image(tmp_path):
    h = history.History(tmp_path)
    h.record(request(), error=errors.text_only("Which style?"))
    (entry,) = h.entries()
    assert entry.image_path is None and entry.meta["error"]["kind"] == "text_only"
    assert entry.meta["text"] == "Which style?"
    assert h.entries(with_images_only=True) == []


def test_write_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    h = history.History(tmp_path)

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(history.HistoryWriteError, match="No space left on device"):
        h.record(request(), result=result())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_read_only_folder_is_a_clear_error(tmp_path, monkeypatch):
    # Injected: tests run as root here, where chmod cannot make a folder read-only.
    def read_only(self, *a, **k):
        raise OSError(errno.EROFS, "Read-only file system")
    monkeypatch.setattr(type(tmp_path), "mkdir", read_only)
    with pytest.raises(history.HistoryWriteError, match="Read-only file system"):
        history.History(tmp_path / "h").record(request(), result=result())


def test_hand_edited_folder_never_breaks_listing(tmp_path):
    h = history.History(tmp_path)
    good = h.record(request("good one"), result=result())
    day = good.sidecar.parent
    (day / "broken.json").write_text("{not json")
    (day / "list.json").write_text("[1, 2]")
    (day / "notes.txt").write_text("foreign file")
    (tmp_path / "stray.json").write_text("{}")
    gone = h.record(request("image deleted by hand"), result=result())
    gone.image_path.unlink()
    ids = [e.id for e in h.entries()]
    assert set(ids) == {good.id, gone.id}
    assert h.get(gone.id).image_path is None


def test_search_filter_and_order(tmp_path):
    h = history.History(tmp_path)
    a = h.record(request("Mossy stone"), result=result(), blend_file="a.blend")
    time.sleep(0.01)
    b = h.record(request("rusty metal"), result=result(), blend_file="b.blend")
    assert [e.id for e in h.entries()] == [b.id, a.id]
    assert [e.id for e in h.entries(search="MOSS")] == [a.id]
    assert [e.id for e in h.entries(blend_file="b.blend")] == [b.id]
    assert h.delete(a.id) and h.get(a.id) is None


def test_prune_removes_oldest_only_when_asked(tmp_path):
    h = history.History(tmp_path)
    entries = []
    for i in range(4):
        entries.append(h.record(request(f"p{i}"), result=result(png(200, 200, color=(i, 2 * i, 3)))))
        time.sleep(0.01)
    total = h.total_bytes()
    victims = h.prune_candidates(total // 2)
    assert victims and victims[0].id == entries[0].id
    assert len(h.entries()) == 4                      # nothing deleted by asking
    deleted = h.prune(total // 2)
    assert [e.id for e in deleted] == [e.id for e in victims] and h.total_bytes() <= total // 2


def test_pipeline_saves_every_result_before_returning_and_never_the_key(tmp_path, fake):
    h = history.History(tmp_path)
    req = GenerationRequest(model="gemini-nano-banana-2.1", prompt="tiles", variations=2)
    outcome = pipeline.run(req, ClientConfig(api_key=KEY, base_url=fake.url), h, threading.Event())
    assert outcome.image_count == 2 and len(outcome.entries) == 2
    for entry, res in zip(outcome.entries, outcome.results, strict=True):
        assert entry.image_path.read_bytes() == res.images[0].data
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes()


def test_jobs_progress_cancel_and_drain():
    jobs = JobManager()
    gate = threading.Event()

    def slow_work(cancel):
        gate.wait(5)
        return "late"
    job = jobs.submit(Job("p", "m", "generate", expected_s=0.2), slow_work)
    time.sleep(0.05)
    p1 = job.progress()
    time.sleep(0.1)
    assert 0 < p1 < job.progress() < 0.95
    assert jobs.running() == [job]
    jobs.cancel(job.id)
    assert job.state == "cancelled" and job.cancel_event.is_set() and jobs.running() == []
    gate.set()
    time.sleep(0.05)
    assert job.result is None                       # the late result was dropped
    assert jobs.drain() == [job] and jobs.drain() == []
    ok = jobs.submit(Job("q", "m", "generate", 1.0), lambda c: 42)
    assert jobs.wait(ok, 2) and ok.result == 42 and ok.state == "done"
    bad = jobs.submit(Job("r", "m", "generate", 1.0), lambda c: 1 / 0)
    assert jobs.wait(bad, 2) and bad.state == "failed" and "ZeroDivisionError" in str(bad.error)


def test_conversation_is_kept_for_refining_later(tmp_path, fake):
    from nanobanana_addon.core.client import GeminiClient
    h = history.History(tmp_path)
    client = GeminiClient(ClientConfig(api_key=KEY, base_url=fake.url))
    try:
        req = GenerationRequest(model="gemini-3-pro-image", prompt="a brick wall",
                                images=[InputImage(png(40, 40), "image/png", "reference", "ref.png")])
        first = client.generate(req)
        entry = h.record(req, result=first)
        turns = history.History(tmp_path).load_turns(h.get(entry.id))     # as after a restart
        assert turns == first.turns                                       # bytes and signatures intact
        again = client.generate(GenerationRequest(model=req.model, prompt="at night", history=turns))
        assert again.images and fake.generate_requests[-1].status == 200  # the API accepted them
    finally:
        client.close()
    # The result image is not stored twice; the reference image is stored once as a blob.
    assert len(list((tmp_path / "blobs").iterdir())) == 1
    second = h.record(req, result=first)
    assert len(list((tmp_path / "blobs").iterdir())) == 1                 # deduplicated
    h.delete(entry.id)
    assert len(list((tmp_path / "blobs").iterdir())) == 1                 # still used by `second`
    h.delete(second.id)
    assert list((tmp_path / "blobs").iterdir()) == []


def test_conversation_with_a_missing_blob_cannot_be_rebuilt(tmp_path):
    h = history.History(tmp_path)
    res = result()
    from nanobanana_addon.core.request import Part, Turn
    res.turns = [Turn("user", (Part(text="p"), Part(data=png(9, 9), mime_type="image/png"))),
                 Turn("model", (Part(data=res.images[0].data, mime_type="image/png",
                                     thought_signature=b"\x00sig"),))]
    entry = h.record(request(), result=res)
    assert h.load_turns(entry) == res.turns
    for blob in (tmp_path / "blobs").iterdir():
        blob.unlink()
    assert h.load_turns(entry) is None
