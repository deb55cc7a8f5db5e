"""Issue 13, frame sequences, in a real Blender against the fake Gemini: a 10-frame sequence
edited with one instruction sends frame 1 first and its answer as a reference with frames
2..10, writes 10 numbered files holding the fake's answers, and loads them as one image
sequence that Blender plays frame by frame. Also from the command line (live and as a
batch), with the refusals a user meets (a gap, a single image, too many frames)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import bpy
import numpy as np
import pytest
from conftest import MODULE
from fake_gemini import expected_pixel
from fake_gemini.responses import pattern_png
from helpers import addon_module, b64, history_sidecars, run_cli, user_parts

FRAMES = 10



def assert_same_picture(sent, expected) -> None:
    """The same picture after a JPEG round trip: small errors everywhere, no region of
    another image (the fake's answers for other frames differ by ~100 levels)."""
    diff = np.abs(sent.astype(np.int16) - expected.astype(np.int16))
    assert diff.mean() <= 4 and np.percentile(diff, 99.9) <= 24, (diff.mean(), diff.max())

def write_frames(folder: Path, numbers, w=64, h=36, name="shot_{:04d}.png") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n in numbers:
        p = folder / name.format(n)
        p.write_bytes(pattern_png(500 + n, w, h))          # each original differs
        out.append(p)
    return out


def decode(data: bytes, tmp: Path) -> np.ndarray:
    """Pixels of encoded bytes, top row first, 0..255, read by Blender itself."""
    path = tmp / f"decode_{time.monotonic_ns()}.img"
    path.write_bytes(data)
    img = bpy.data.images.load(str(path))
    try:
        w, h = img.size
        buf = np.empty(w * h * 4, np.float32)
        img.pixels.foreach_get(buf)
        return np.rint(buf.reshape(h, w, 4)[::-1, :, :3] * 255).astype(int)
    finally:
        bpy.data.images.remove(img)


def image_editor():
    """The first area of the window, turned into an Image Editor."""
    window = bpy.context.window_manager.windows[0]
    area = window.screen.areas[0]
    area.type = "IMAGE_EDITOR"
    return window, area


def check_sequence_run(fake, tmp_path, folder: Path, out_folder: Path) -> dict[int, int]:
    """The run's requests and files: returns frame number -> the fake's seed of its answer."""
    reqs = sorted(fake.generate_requests, key=lambda r: r.number)
    assert len(reqs) == FRAMES
    first = reqs[0]
    first_parts = user_parts(first)
    assert first_parts[0]["text"] == "make it snow"
    assert not any("Reference image" in (p.get("text") or "") for p in first_parts)
    first_png = pattern_png(first.seed, *first.image_size)
    first_px = decode(first_png, tmp_path)
    # Frames 2..10 were sent after frame 1 was answered, each with that answer as a reference.
    for r in reqs[1:]:
        assert r.received_at >= first.received_at
        parts = user_parts(r)
        assert "make it snow" in parts[0]["text"] and "already edited" in parts[0]["text"]
        labels = [p.get("text") for p in parts if p.get("text")]
        assert "Reference image 1 (first frame, edited):" in labels
        k = labels.index("Reference image 1 (first frame, edited):")
        blob = [p for p in parts if "inlineData" in p or "inline_data" in p][1]
        data = (blob.get("inlineData") or blob.get("inline_data"))["data"]
        assert k > 0
        sent = decode(b64(data), tmp_path)
        assert sent.shape == first_px.shape
        assert_same_picture(sent, first_px)                      # JPEG-encoded for upload
    # 10 numbered files, each the fake's answer for its own frame, byte for byte.
    seeds = {}
    entries = {m["inputs"][0]["name"]: m for m in history_sidecars() if m.get("kind") == "edit_sequence"
               and m.get("image_file") and not m.get("error")}
    by_seed = {r.seed: r for r in reqs}
    for n in range(1, FRAMES + 1):
        out = out_folder / f"shot_nb_{n:04d}.png"
        assert out.is_file(), out
        data = out.read_bytes()
        assert f"shot_{n:04d}.png" in entries            # each frame's answer is in history
        match = [s for s, r in by_seed.items() if data == pattern_png(s, *r.image_size)]
        assert len(match) == 1, n
        seeds[n] = match[0]
    assert len(set(seeds.values())) == FRAMES
    assert seeds[1] == first.seed
    return seeds


def frame_pixels(img: bpy.types.Image, frame: int) -> bpy.types.Image:
    """Make Blender load `frame` of a sequence image (through an image user)."""
    tex = bpy.data.textures.new("probe", "IMAGE")
    try:
        tex.image = img
        iu = tex.image_user
        iu.frame_duration, iu.frame_start, iu.frame_offset = FRAMES, 1, 0
        iu.frame_current = frame
        tex.evaluate((0.5, 0.5, 0.0))
        assert img.filepath_from_user(image_user=iu).endswith(f"shot_nb_{frame:04d}.png")
    finally:
        bpy.data.textures.remove(tex)
    return img


def assert_is_pattern(img: bpy.types.Image, seed: int) -> None:
    w, h = img.size
    buf = np.empty(w * h * 4, np.float32)
    img.pixels.foreach_get(buf)
    px = buf.reshape(h, w, 4)
    for x, y in ((0, 0), (5, 7), (w - 1, h - 1), (w // 2, h // 3)):
        got = tuple(int(round(v * 255)) for v in px[h - 1 - y, x, :3])
        assert got == expected_pixel(seed, x, y, w, h), (x, y, got)


def test_edit_a_ten_frame_sequence_from_the_image_editor(fake, scene, tmp_path):
    folder = tmp_path / "shot"
    write_frames(folder, range(1, FRAMES + 1))
    src = bpy.data.images.load(str(folder / "shot_0001.png"))
    src.source = "SEQUENCE"
    window, area = image_editor()
    space = area.spaces.active
    space.image = src
    assert space.image_user.frame_duration > FRAMES        # Blender's default span: wider than the files
    space.image_user.frame_start, space.image_user.frame_offset = 1, 0
    scene.nanobanana.prompt = "make it snow"
    with bpy.context.temp_override(window=window, area=area):
        assert bpy.ops.nanobanana.edit_sequence() == {"FINISHED"}
    seeds = check_sequence_run(fake, tmp_path, folder, folder)
    # One image sequence in Blender, shown in the Image Editor, playing all 10 frames.
    img = space.image
    assert img is not None and img != src and img.source == "SEQUENCE"
    assert Path(bpy.path.abspath(img.filepath)) == folder / "shot_nb_0001.png"
    assert space.image_user.frame_duration == FRAMES
    assert json.loads(img["nanobanana_sequence"])["frames"] == FRAMES
    for n in (1, 4, 10):
        assert_is_pattern(frame_pixels(img, n), seeds[n])
    status = addon_module("runtime").STATE.status
    assert status.text.startswith("10 images from") and "10 edited frames written as" in status.text
    assert status.level == "INFO"
    # No packed copy of frame 1 is left behind: the files are the result.
    assert not [i for i in bpy.data.images if i.packed_file is not None and "snow" in i.name]


def test_a_frame_range_and_a_failing_frame(fake, scene, tmp_path):
    """Frames 3-6 only; one of them is refused: the others are written, the status says so."""
    from fake_gemini import responses as R
    folder = tmp_path / "shot"
    write_frames(folder, range(1, 9))
    scene.nanobanana.prompt = "make it snow"
    fake.script(R.image(), R.image(), R.finish("IMAGE_SAFETY"), R.image())    # frame 3 first
    assert bpy.ops.nanobanana.edit_sequence(filepath=str(folder / "shot_####.png"), frames="3-6",
                                            output_dir=str(tmp_path / "out")) == {"FINISHED"}
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(written) == 3 and all(n.startswith("shot_nb_000") for n in written)
    status = addon_module("runtime").STATE.status
    assert status.level == "WARNING" and "failed" in status.text and "other frames are written" in status.text


@pytest.mark.parametrize("case, words", [
    ("gap", "missing frame 4"),
    ("single", "is not an image sequence"),
    ("too_many", "edits at most 5 at once"),
])
def test_clear_refusals(fake, scene, tmp_path, monkeypatch, case, words):
    folder = tmp_path / case
    numbers = {"gap": [1, 2, 3, 5, 6], "single": [1], "too_many": range(1, 8)}[case]
    write_frames(folder, numbers)
    monkeypatch.setattr(sys.modules[f"{MODULE}.core.sequence"], "MAX_FRAMES", 5)
    with pytest.raises(RuntimeError, match=words):
        bpy.ops.nanobanana.edit_sequence(filepath=str(folder / "shot_0001.png"))
    assert not fake.generate_requests
    assert not list(folder.glob("*_nb_*"))


def test_cancel_stops_the_sequence(fake, scene, tmp_path):
    pump, seq = addon_module("pump"), addon_module("sequence_ops")
    folder = tmp_path / "shot"
    write_frames(folder, range(1, 7))
    fake.latency = 1.5
    job = pump.submit(bpy.context, *seq.build(bpy.context, filepath=str(folder / "shot_0001.png")))
    assert fake.wait_for_requests(1)
    assert bpy.ops.nanobanana.cancel(job_id=job.id) == {"FINISHED"}
    assert job.state == "cancelled"
    time.sleep(2.0)
    assert len(fake.generate_requests) == 1            # frames 2..6 were never sent
    assert not [i for i in bpy.data.images if i.source == "SEQUENCE"]



def test_the_command_line_edits_a_sequence(fake, scene, tmp_path, capsys):
    folder = tmp_path / "shot"
    write_frames(folder, range(1, FRAMES + 1))
    code, s, err = run_cli(capsys, "edit", "--sequence", str(folder / "shot_0001.png"),
                           "--prompt", "make it snow")
    assert code == 0 and s["ok"] and s["written"] == FRAMES and len(s["files"]) == FRAMES
    assert s["pattern"] == str(folder / "shot_nb_####.png")
    assert [r["frame"] for r in s["results"]] == list(range(1, FRAMES + 1))
    assert all(r["history_id"] for r in s["results"])
    check_sequence_run(fake, tmp_path, folder, folder)
    assert "frame 1 first" in err and "of 10 frames" in err
    assert bpy.data.images[s["image"]].source == "SEQUENCE"
    # Refusals: exit 2 with the reason.
    (folder / "shot_0004.png").unlink()
    code, s, _ = run_cli(capsys, "edit", "--sequence", str(folder / "shot_####.png"), "--prompt", "x")
    assert code == 2 and "missing frame 4" in s["error"]["message"]
    code, s, _ = run_cli(capsys, "edit", "--input", str(folder / "shot_0001.png"), "--frames", "1-3",
                         "--prompt", "x")
    assert code == 2


def test_the_command_line_sends_frames_two_to_n_as_one_batch(fake, scene, tmp_path, capsys):
    folder = tmp_path / "shot"
    write_frames(folder, range(1, 6))
    code, s, err = run_cli(capsys, "edit", "--sequence", str(folder / "shot_####.png"), "--prompt",
                           "make it snow", "--batch", "--wait", "--poll", "0.05", "--out",
                           str(tmp_path / "out"))
    assert code == 0 and s["written"] == 5, s
    assert len(fake.generate_requests) == 1                           # frame 1 live
    (create,) = [r for r in fake.requests if r.action == "batchGenerateContent"]
    items = create.body["batch"]["inputConfig"]["requests"]["requests"]
    assert len(items) == 4
    first = fake.generate_requests[0]
    first_px = decode(pattern_png(first.seed, *first.image_size), tmp_path)
    for item in items:
        parts = item["request"]["contents"][-1]["parts"]
        assert "Reference image 1 (first frame, edited):" in [p.get("text") for p in parts]
        blob = [p for p in parts if "inlineData" in p or "inline_data" in p][1]
        sent = decode(b64((blob.get("inlineData") or blob.get("inline_data"))["data"]), tmp_path)
        assert_same_picture(sent, first_px)
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == [f"shot_nb_{n:04d}.png" for n in range(1, 6)]
    assert s["batch"]["price_factor"] == 0.5
    sequences = [i for i in bpy.data.images if i.source == "SEQUENCE"]
    assert [i.name for i in sequences] == [s["image"]]                # one image, all 5 frames
    assert json.loads(sequences[0]["nanobanana_sequence"])["frames"] == 5


def test_the_scenes_rendered_frames(fake, scene, tmp_path):
    """use_renders: the scene's frame range, read from its Output path."""
    folder = tmp_path / "render"
    write_frames(folder, range(11, 15), name="beauty_{:04d}.png")
    scene.render.filepath = str(folder / "beauty_")
    scene.render.image_settings.file_format = "PNG"
    scene.frame_start, scene.frame_end = 11, 14
    scene.nanobanana.prompt = "make it snow"
    assert bpy.ops.nanobanana.edit_sequence(use_renders=True) == {"FINISHED"}
    assert sorted(p.name for p in folder.glob("beauty_nb_*")) == [f"beauty_nb_{n:04d}.png" for n in range(11, 15)]
    img = next(i for i in bpy.data.images if i.source == "SEQUENCE" and i.name.startswith("beauty_nb_"))
    meta = json.loads(img["nanobanana_sequence"])
    assert (meta["first"], meta["frames"], meta["frame_start"], meta["frame_offset"]) == (11, 4, 11, 10)
    (folder / "beauty_0013.png").unlink()
    with pytest.raises(RuntimeError, match="missing frame 13"):
        bpy.ops.nanobanana.edit_sequence(use_renders=True)


def test_the_button_and_the_progress_in_the_image_editor(fake, scene, tmp_path):
    from ui_double import Layout
    seq, pump = addon_module("sequence_ops"), addon_module("pump")
    folder = tmp_path / "shot"
    write_frames(folder, range(1, 4))
    window, area = image_editor()
    space = area.spaces.active
    space.image = bpy.data.images.load(str(folder / "shot_0001.png"))
    with bpy.context.temp_override(window=window, area=area):
        layout = Layout()
        seq.draw_button(layout, bpy.context)
        assert "nanobanana.edit_sequence" not in layout.operators        # a single image
        space.image.source = "SEQUENCE"
        layout = Layout()
        seq.draw_button(layout, bpy.context)
        assert "nanobanana.edit_sequence" in layout.operators
        fake.latency = 0.6
        job = pump.submit(bpy.context, *seq.build(bpy.context))
        time.sleep(0.2)
        layout = Layout()
        seq.draw_button(layout, bpy.context)
        assert any("Sequence: frame 1 of 3" in t for t in layout.labels), layout.labels
        pump.wait_and_apply(job)


def test_a_batch_without_wait_writes_frame_one_and_says_where_the_rest_is(fake, scene, tmp_path, capsys):
    fake.batch_running_s = None                            # the batch stays RUNNING
    folder = tmp_path / "shot"
    write_frames(folder, range(1, 4))
    code, s, _ = run_cli(capsys, "edit", "--sequence", str(folder / "shot_0001.png"), "--prompt",
                         "make it snow", "--batch")
    assert code == 0 and s["written"] == 1 and s["batch"]["requests"] == 2
    assert s["files"] == [str(folder / "shot_nb_0001.png")]
    assert f"batch fetch {s['batch']['name'].rsplit('/', 1)[-1]}" in s["message"]
