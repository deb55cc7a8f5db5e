"""Edit batches inside Blender (PyPI bpy): `batch submit --input IMAGE ...` sends one edit
request per image and prompt in one Gemini batch, each carrying its image; the results
come back into history as edits of those images, into --out and into the open file; the
Send as Batch button reads the settings once however many lines the prompt text has."""
from __future__ import annotations

import io

import bpy
import pytest
from fake_gemini import responses as R
from helpers import addon_module, history_sidecars, nb_images, run_cli, runtime, texture_on


def frame_png(path, k: int) -> str:
    from PIL import Image
    Image.new("RGB", (160, 90), (20 * k, 120, 200 - 20 * k)).save(path)
    return str(path)


def inline_image_count(request: dict) -> int:
    return sum(1 for c in request["contents"] for p in c["parts"] if "inlineData" in p or "inline_data" in p)


def test_batch_submit_edits_each_input_image(fake, scene, tmp_path, capsys):
    fake.batch_pending_s, fake.batch_running_s = 0.0, 0.3
    frames = [frame_png(tmp_path / f"shot_{k:04d}.png", k) for k in range(3)]
    before = len(nb_images())
    code, s, err = run_cli(capsys, "batch", "submit", "--prompt", "the same shot at dusk",
                           *[a for f in frames for a in ("--input", f)], "--ratio", "auto",
                           "--wait", "--poll", "0.05", "--out", str(tmp_path / "out"))
    assert code == 0 and s["ok"], err
    (create,) = [r for r in fake.requests if r.action == "batchGenerateContent"]
    sent = create.body["batch"]["inputConfig"]["requests"]["requests"]
    assert [inline_image_count(q["request"]) for q in sent] == [1, 1, 1]
    assert all(q["request"]["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9" for q in sent)
    assert not fake.generate_requests                          # nothing went interactively
    assert s["batch"]["requests"] == 3 and s["batch"]["images_saved"] == 3
    written = sorted(i["file"] for r in s["results"] for i in r["images"])
    assert len(written) == 3 and all(open(f, "rb").read(8) == b"\x89PNG\r\n\x1a\n" for f in written)
    mine = [m for m in history_sidecars() if (m.get("batch") or {}).get("name") == s["batch"]["name"]]
    assert sorted(m["inputs"][0]["name"] for m in mine) == [f"shot_{k:04d}.png" for k in range(3)]
    assert {m["kind"] for m in mine} == {"edit_texture"}
    assert len(nb_images()) == before + 3                      # and into the open file


def test_batch_submit_edit_input_errors_are_bad_arguments(fake, scene, tmp_path, capsys):
    code, s, _ = run_cli(capsys, "batch", "submit", "--prompt", "x", "--input", str(tmp_path / "nope.png"))
    assert code == 2 and "nope.png" in s["error"]["message"]
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    code, s, _ = run_cli(capsys, "batch", "submit", "--prompt", "x", "--input", str(bad))
    assert code == 2 and "not an image" in s["error"]["message"]
    assert not [r for r in fake.requests if r.action == "batchGenerateContent"]


def test_send_each_line_reads_the_references_once(fake, scene, monkeypatch):
    """200 lines, one reference image: the reference is copied once, every request carries
    it, and each line is its own prompt."""
    from PIL import Image
    batches, capture = addon_module("batches"), addon_module("capture")
    fake.batch_running_s = None
    fake.script(*[R.image()] * 200)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 60, 30)).save(buf, "PNG")
    ref = bpy.data.images.new("wood ref", 8, 8)
    ref.pack(data=buf.getvalue(), data_len=len(buf.getvalue()))
    ref.source = "FILE"
    s = scene.nanobanana
    s.references.add().image = ref
    text = bpy.data.texts.new("props")
    text.write("".join(f"prop {i}\n" for i in range(200)))
    s.prompt_text = text
    copies = []
    real = capture.image_input
    monkeypatch.setattr(capture, "image_input", lambda *a, **kw: copies.append(1) or real(*a, **kw))
    requests = batches.requests_from_settings(bpy.context, per_line=True)
    assert len(copies) == 1
    assert [q.prompt for q in requests] == [f"prop {i}" for i in range(200)]
    assert all(len(q.images) == 1 and q.images[0].role == "reference" for q in requests)
    assert s.prompt_text == text and s.prompt != "prop 0"       # the settings are left as they were


def test_edit_texture_as_a_batch_from_the_panel(fake, scene):
    """Edit Texture with each line of the prompt text, as one batch: the texture is
    captured once and goes with every request; the results come back as edits of it."""
    from PIL import Image
    batches = addon_module("batches")
    fake.batch_running_s = None
    buf = io.BytesIO()
    Image.new("RGB", (96, 128), (120, 80, 40)).save(buf, "PNG")
    albedo = bpy.data.images.new("crate_albedo", 8, 8)
    albedo.pack(data=buf.getvalue(), data_len=len(buf.getvalue()))
    albedo.source = "FILE"
    _mat, node = texture_on(bpy.context.active_object, albedo, "Crate")
    text = bpy.data.texts.new("looks")
    text.write("rusty\nmossy\nburnt\n")
    scene.nanobanana.prompt_text = text
    assert bpy.ops.nanobanana.batch_submit(edit="TEXTURE", per_line=True) == {"FINISHED"}
    (create,) = [r for r in fake.requests if r.action == "batchGenerateContent"]
    sent = create.body["batch"]["inputConfig"]["requests"]["requests"]
    assert [inline_image_count(q["request"]) for q in sent] == [1, 1, 1]
    assert [q["request"]["generationConfig"]["imageConfig"]["aspectRatio"] for q in sent] == ["3:4"] * 3   # the texture's
    texts = [p["text"] for q in sent for c in q["request"]["contents"] for p in c["parts"] if "text" in p]
    assert all(any(w in t for t in texts) for w in ("rusty", "mossy", "burnt"))
    rec = batches.records()[0]
    fake.finish_batch(rec.name)
    before = len(nb_images())
    assert bpy.ops.nanobanana.batch_fetch() == {"FINISHED"}
    assert len(nb_images()) == before + 3
    mine = [m for m in history_sidecars() if (m.get("batch") or {}).get("name") == rec.name]
    assert {m["kind"] for m in mine} == {"edit_texture"} and len(mine) == 3
    assert node.image.name == "crate_albedo"          # a batch never replaces the node's image


def test_masked_edits_are_not_batched(fake, scene):
    s = scene.nanobanana
    s.prompt = "a stone castle at dusk"
    s.use_mask = True
    s.mask_image = bpy.data.images.new("mask", 16, 16)
    bpy.context.scene.render.resolution_x, bpy.context.scene.render.resolution_y = 64, 36
    s.render_source = "CAMERA"
    with pytest.raises(RuntimeError, match="not sent as batches"):
        bpy.ops.nanobanana.batch_submit(edit="RENDER")
    assert "not sent as batches" in runtime().STATE.status.text
    assert not [r for r in fake.requests if r.action == "batchGenerateContent"]
