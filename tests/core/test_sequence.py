"""Frame sequences (issue 13), core side: which files make a sequence, where the edited
frames go, what each frame's request carries, and the run order (frame 1 alone, then the
rest with its answer as a reference), partial failures and cancel; one run goes through
the real pipeline and google-genai against the fake Gemini."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from conftest import KEY, png

from nanobanana_addon.core import errors, sequence
from nanobanana_addon.core.pipeline import Outcome
from nanobanana_addon.core.request import (
    GenerationRequest,
    GenerationResult,
    InputImage,
    JobKind,
    OutputImage,
)


def frames_on_disk(folder: Path, numbers, name="shot_{:04d}.png") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n in numbers:
        p = folder / name.format(n)
        p.write_bytes(png(8, 8, color=(n, 0, 0)))
        out.append(p)
    return out


@pytest.mark.parametrize("given", ["shot_0003.png", "shot_####.png", "shot_%04d.png"])
def test_a_sequence_from_one_of_its_files_or_a_pattern(tmp_path, given):
    frames_on_disk(tmp_path, range(3, 8))
    (tmp_path / "shot_0003.jpg").write_bytes(b"x")          # another format: not this sequence
    (tmp_path / "other_0004.png").write_bytes(b"x")
    spec, found = sequence.find_frames(str(tmp_path / given))
    assert [n for n, _ in found] == [3, 4, 5, 6, 7]
    assert [Path(p).name for _, p in found][0] == "shot_0003.png"
    assert spec.display == str(tmp_path / "shot_####.png")


def test_a_frame_range_picks_those_frames(tmp_path):
    frames_on_disk(tmp_path, range(1, 21))
    _, found = sequence.find_frames(str(tmp_path / "shot_0001.png"), sequence.parse_range("5-9"))
    assert [n for n, _ in found] == [5, 6, 7, 8, 9]
    assert sequence.parse_range("12") == (12, 12)
    for bad in ("9-5", "a-b", ""):
        with pytest.raises(errors.InvalidInput, match="not a frame range"):
            sequence.parse_range(bad)


def test_bounds_limit_the_files_found_without_naming_frames_that_must_exist(tmp_path):
    """An Image Editor's image user plays frames 1-100 by default: the 10 files on disk are
    the sequence, and a wider folder is cut to the span."""
    frames_on_disk(tmp_path, range(1, 11))
    _, found = sequence.find_frames(str(tmp_path / "shot_0001.png"), bounds=(1, 100))
    assert [n for n, _ in found] == list(range(1, 11))
    _, found = sequence.find_frames(str(tmp_path / "shot_0001.png"), bounds=(4, 6))
    assert [n for n, _ in found] == [4, 5, 6]
    with pytest.raises(errors.InvalidInput, match="No files match"):
        sequence.find_frames(str(tmp_path / "shot_0001.png"), bounds=(50, 60))


def test_gaps_single_files_caps_and_formats_are_refused_with_the_reason(tmp_path, monkeypatch):
    frames_on_disk(tmp_path, [1, 2, 4, 5, 9])
    with pytest.raises(errors.InvalidInput, match=r"missing frames 3, 6, 7, 8"):
        sequence.find_frames(str(tmp_path / "shot_0001.png"))
    with pytest.raises(errors.InvalidInput, match=r"missing frame 3\."):
        sequence.find_frames(str(tmp_path / "shot_0001.png"), (1, 4))
    lone = tmp_path / "lone" / "render.png"
    lone.parent.mkdir()
    lone.write_bytes(png())
    with pytest.raises(errors.InvalidInput, match="is not an image sequence"):
        sequence.find_frames(str(lone))
    frames_on_disk(tmp_path / "one", [7])
    with pytest.raises(errors.InvalidInput, match="is not an image sequence"):
        sequence.find_frames(str(tmp_path / "one" / "shot_0007.png"))
    with pytest.raises(errors.InvalidInput, match="No files match"):
        sequence.find_frames(str(tmp_path / "none_####.png"))
    with pytest.raises(errors.InvalidInput, match="cannot be sent to Gemini"):
        sequence.find_frames(str(tmp_path / "shot_####.exr"))
    monkeypatch.setattr(sequence, "MAX_FRAMES", 3)
    frames_on_disk(tmp_path / "long", range(1, 5))
    with pytest.raises(errors.InvalidInput, match="has 4 frames; Nano Banana edits at most 3"):
        sequence.find_frames(str(tmp_path / "long" / "shot_0001.png"))
    with pytest.raises(errors.InvalidInput, match="at most 3"):
        sequence.find_frames(str(tmp_path / "long" / "shot_0001.png"), (1, 4))


def test_edited_frames_go_next_to_the_originals_never_over_a_file(tmp_path):
    frames_on_disk(tmp_path, range(1, 4), "shot.{:03d}.png")
    spec, found = sequence.find_frames(str(tmp_path / "shot.001.png"))
    p = sequence.plan(spec, found)
    assert [Path(f.output).name for f in p.frames] == ["shot_nb_0001.png", "shot_nb_0002.png",
                                                        "shot_nb_0003.png"]
    assert all(Path(f.output).parent == tmp_path for f in p.frames)
    (tmp_path / "shot_nb_0002.png").write_bytes(b"earlier run")
    p2 = sequence.plan(spec, found)
    assert Path(p2.frames[0].output).name == "shot_nb2_0001.png"
    p3 = sequence.plan(spec, found, folder=str(tmp_path / "out"))
    assert Path(p3.frames[2].output) == tmp_path / "out" / "shot_nb_0003.png"
    frames_on_disk(tmp_path / "bare", range(1, 3), "{:04d}.png")
    spec, found = sequence.find_frames(str(tmp_path / "bare" / "0001.png"))
    assert Path(sequence.plan(spec, found).frames[1].output).name == "nb_0002.png"


def _template(refs=0) -> GenerationRequest:
    images = [InputImage(b"frame1", "image/png", "edit", "shot_0001.png")]
    images += [InputImage(b"ref%d" % k, "image/png", "reference", f"r{k}") for k in range(refs)]
    return GenerationRequest(model="gemini-nano-banana-2.1", prompt="make it snow", images=images,
                             kind=JobKind.EDIT_SEQUENCE, aspect_ratio="16:9")


def test_frame_one_is_a_plain_edit_later_frames_carry_its_answer_and_the_wording():
    t = _template(refs=1)
    frame3 = InputImage(b"frame3", "image/png", "edit", "shot_0003.png")
    first = sequence.frame_request(t, InputImage(b"frame1", "image/png", "edit"), None, 1, 10)
    assert [i.data for i in first.images] == [b"frame1", b"ref0"] and first.instruction is None
    ref = sequence.reference_of(OutputImage(b"answer1", "image/png", 8, 8))
    third = sequence.frame_request(t, frame3, ref, 3, 10)
    assert [i.data for i in third.images] == [b"frame3", b"ref0", b"answer1"]
    assert [i.role for i in third.images] == ["edit", "reference", "reference"]
    assert third.prompt == "make it snow"                    # history keeps the artist's words
    assert third.instruction.startswith("make it snow\n\n")
    assert "frame 3 of 10" in third.instruction and "Reference image 2 is the first frame" in third.instruction
    assert third.aspect_ratio == "16:9" and third.variations == 1


def _answer(data: bytes) -> Outcome:
    req = GenerationRequest(model="m", prompt="p")
    o = Outcome(req)
    o.results = [GenerationResult(model="m", images=[OutputImage(png(8, 8, color=(data[0], 9, 9)),
                                                                 "image/png", 8, 8)], cost_usd=0.01)]
    o.entries = [None]
    return o


def test_the_run_sends_frame_one_first_then_the_rest_with_its_answer(tmp_path):
    frames_on_disk(tmp_path, range(1, 11))
    spec, found = sequence.find_frames(str(tmp_path / "shot_0001.png"))
    p = sequence.plan(spec, found)
    seen: list[tuple[float, bytes, list[str]]] = []
    lock = threading.Lock()
    first_done = []

    def run(req, cancel):
        frame = req.images[0].name
        number = int(frame[5:9])
        if number == 1:
            time.sleep(0.05)
            first_done.append(time.monotonic())
        with lock:
            seen.append((time.monotonic(), req.images[0].data, [i.name for i in req.images[1:]]))
        return _answer(bytes([number * 10]))

    result = sequence.run_frames(p, _template(), run, threading.Event())
    assert result.done == 10 and not result.failures
    starts = sorted(seen)
    assert starts[0][2] == [] and all(s[2] == [sequence.REFERENCE_NAME] for s in starts[1:])
    assert all(s[0] >= first_done[0] for s in starts[1:])
    for f in p.frames:                                   # each frame's own answer, numbered
        assert Path(f.output).read_bytes() == result.outcomes[f.number].results[0].images[0].data
    merged = sequence.merged_outcome(result)
    assert len(merged.results) == 10 and merged.image_count == 1
    assert sum(r.cost_usd for r in merged.results) == pytest.approx(0.10)


def test_a_failing_frame_does_not_stop_the_others_but_frame_one_does(tmp_path):
    frames_on_disk(tmp_path, range(1, 6))
    p = sequence.plan(*sequence.find_frames(str(tmp_path / "shot_0001.png")))

    def run(req, cancel):
        if req.images[0].name == "shot_0004.png":
            raise errors.image_refused("IMAGE_SAFETY")
        return _answer(b"\x01")

    result = sequence.run_frames(p, _template(), run, threading.Event())
    assert sorted(result.written) == [1, 2, 3, 5] and list(result.failures) == [4]
    assert not Path(p.frames[3].output).exists()
    warning = sequence.merged_outcome(result).warnings[-1]
    assert warning.startswith("Frame 4 failed") and "other frames are written" in warning

    def refuse_first(req, cancel):
        raise errors.prompt_blocked("SAFETY")
    p2 = sequence.plan(*sequence.find_frames(str(tmp_path / "shot_0001.png")))
    with pytest.raises(errors.PromptBlocked):
        sequence.run_frames(p2, _template(), refuse_first, threading.Event())
    assert not any(Path(f.output).exists() for f in p2.frames)


def test_cancel_stops_the_frames_not_yet_sent(tmp_path):
    frames_on_disk(tmp_path, range(1, 13))
    p = sequence.plan(*sequence.find_frames(str(tmp_path / "shot_0001.png")))
    cancel = threading.Event()
    sent = []

    def run(req, cancel_event):
        sent.append(req.images[0].name)
        if len(sent) == 3:
            cancel_event.set()
        if cancel_event.is_set():
            raise errors.cancelled()
        return _answer(b"\x02")

    with pytest.raises(errors.Cancelled):
        sequence.run_frames(p, _template(), run, cancel, parallel=1)
    assert len(sent) == 3


def test_through_the_pipeline_and_the_fake_gemini(fake, tmp_path):
    """The real request: frames 2..N carry frame 1's answer (the fake's pattern) and the wording."""
    import io

    from PIL import Image

    from nanobanana_addon.core import pipeline
    from nanobanana_addon.core.client import ClientConfig
    from nanobanana_addon.core.history import History
    frames_on_disk(tmp_path / "frames", range(1, 5))
    p = sequence.plan(*sequence.find_frames(str(tmp_path / "frames" / "shot_####.png")))
    cfg = ClientConfig(api_key=KEY, base_url=fake.url, timeout_s=10.0)
    hist = History(tmp_path / "history")
    t = _template()
    try:
        result = sequence.run_frames(p, t, lambda r, c: pipeline.run(r, cfg, hist, c), threading.Event())
    finally:
        pipeline.close_clients()
    reqs = sorted(fake.generate_requests, key=lambda r: r.number)
    assert len(reqs) == 4 and result.done == 4
    first_png = Path(p.frames[0].output).read_bytes()
    first_px = Image.open(io.BytesIO(first_png)).convert("RGB")
    for r in reqs[1:]:
        parts = r.body["contents"][-1]["parts"]
        assert "frame" in parts[0]["text"] and "Reference image 1 is the first frame" in parts[0]["text"]
        blobs = [q for q in parts if "inlineData" in q or "inline_data" in q]
        assert len(blobs) == 2
        import base64
        blob = blobs[1].get("inlineData") or blobs[1].get("inline_data")
        data = blob["data"].replace("-", "+").replace("_", "/")
        sent = Image.open(io.BytesIO(base64.b64decode(data + "=" * (-len(data) % 4)))).convert("RGB")
        assert sent.size == first_px.size
        a, b = sent.getpixel((5, 7)), first_px.getpixel((5, 7))
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 6      # JPEG-encoded upload
    assert len(hist.entries()) == 4
