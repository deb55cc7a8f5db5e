"""Between Gemini's last byte and the hand-over to Blender (issue #14, P11): the paid image
is complete at its history name before the job hands over, even when the process dies
right after; its fsync follows on durable.py's thread; the sidecar's input thumbnails
are made while Gemini works, once per request rather than once per variation."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import KEY, ROOT, png

from nanobanana_addon.core import durable, errors, history, images, pipeline
from nanobanana_addon.core.client import ClientConfig
from nanobanana_addon.core.request import GenerationRequest, InputImage

MODEL = "gemini-nano-banana-2.1"


def config(fake) -> ClientConfig:
    return ClientConfig(api_key=KEY, base_url=fake.url, timeout_s=20.0)


def test_the_job_hands_over_with_files_in_place_while_their_fsync_waits(tmp_path, fake, monkeypatch):
    assert durable.wait(10)             # nothing of an earlier test still queued
    gate, synced = threading.Event(), []
    real_sync = durable.sync

    def slow_disk(path):                # an fsync that takes as long as the test wants
        gate.wait(20)
        if tmp_path in path.parents:
            synced.append(path.name)
        real_sync(path)
    monkeypatch.setattr(durable, "sync", slow_disk)
    h = history.History(tmp_path)
    done = threading.Event()
    box: dict = {}

    def job():
        box["outcome"] = pipeline.run(GenerationRequest(MODEL, "moss"), config(fake), h, threading.Event())
        done.set()
    threading.Thread(target=job, daemon=True).start()
    try:
        assert done.wait(15), "the job waited for the fsync before handing over"
        (entry,) = box["outcome"].entries
        assert entry.image_path.read_bytes() == box["outcome"].results[0].images[0].data
        assert json.loads(entry.sidecar.read_text())["image_file"] == entry.image_path.name
        assert synced == []
    finally:
        gate.set()
    assert durable.wait(10)
    assert synced == [entry.image_path.name, entry.sidecar.name]      # image first, as written
    assert durable.failures() == []


def test_a_killed_process_keeps_the_image_it_wrote_without_fsync(tmp_path):
    """What the history rule protects against, Blender dying while it lands the result:
    a file renamed into place and not yet fsynced is whole after a SIGKILL."""
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("POSIX signals")
    data = os.urandom(8 * 1024 * 1024)
    (tmp_path / "answer.bin").write_bytes(data)
    script = ("import sys, os, signal; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
              "from nanobanana_addon.core import durable, history; durable.sync = lambda p: None;"
              "d = Path(sys.argv[2]); history.atomic_write(d / 'result.png', (d / 'answer.bin').read_bytes(),"
              " sync_later=True); os.kill(os.getpid(), signal.SIGKILL)")
    proc = subprocess.run([sys.executable, "-c", script, str(ROOT), str(tmp_path)], timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert (tmp_path / "result.png").read_bytes() == data
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_input_thumbnails_are_made_once_while_gemini_works(tmp_path, fake, monkeypatch):
    made: list[float] = []
    real = images.thumbnail

    def counted(data, side=128):
        out = real(data, side)
        made.append(time.monotonic())
        return out
    monkeypatch.setattr(images, "thumbnail", counted)
    fake.latency = 0.6
    answered: list[float] = []
    real_record = history.History.record

    def record(self, *args, **kwargs):
        answered.append(time.monotonic())
        return real_record(self, *args, **kwargs)
    monkeypatch.setattr(history.History, "record", record)
    req = GenerationRequest(MODEL, "moss on it", variations=3,
                            images=[InputImage(png(600, 400), "image/png", "edit", "wall.png")])
    outcome = pipeline.run(req, config(fake), history.History(tmp_path), threading.Event())
    assert len(outcome.entries) == 3
    assert len(made) == 1 and made[0] < min(answered)      # once, before the first answer
    metas = [e.meta for e in outcome.entries]
    assert all(m["inputs"][0]["thumbnail_png"] == metas[0]["inputs"][0]["thumbnail_png"] for m in metas)
    assert metas[0]["inputs"][0]["name"] == "wall.png"
    assert durable.wait(10)


def _noisy(fmt: str) -> bytes:
    import io

    import numpy as np
    from PIL import Image
    px = np.random.default_rng(3).integers(0, 255, (512, 512, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(px, "RGB").save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_an_answer_cut_short_is_refused_and_a_whole_one_is_not_decoded(fmt, monkeypatch):
    from PIL import Image, ImageFile
    data = _noisy(fmt)
    for cut in (len(data) // 3, len(data) * 2 // 3, len(data) - 3):
        with pytest.raises(errors.MalformedResponse, match="could not be read"):
            images.check_output(data[:cut])

    def no_decode(self, *a, **kw):
        raise AssertionError("pixels decoded on the answer path")
    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decode)
    monkeypatch.setattr(Image.Image, "load", no_decode)
    monkeypatch.setattr(Image.Image, "verify", no_decode)
    assert images.check_output(data) == (512, 512, f"image/{fmt.lower()}")
