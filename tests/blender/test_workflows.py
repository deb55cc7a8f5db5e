"""Issue 4: the three workflows, refine, variations, cancel and every failure, end to end
in a real Blender on the built zip, against the fake Gemini server."""
from __future__ import annotations

import os
import time
from types import SimpleNamespace

import bpy
import numpy as np
import pytest
from conftest import KEY
from fake_gemini import responses as R
from fake_gemini.validate import get
from helpers import (
    addon_module,
    assert_pixels_match,
    b64,
    expect_error,
    history_sidecars,
    nb_images,
    runtime,
    status,
    texture_on,
    user_parts,
    wait_until,
)


def generate(**settings):
    s = bpy.context.scene.nanobanana
    for k, v in settings.items():
        setattr(s, k, v)
    return bpy.ops.nanobanana.generate()


def start_generate():
    """What the Generate button does in the UI: submit and return at once (no waiting)."""
    ops = addon_module("operators")
    return addon_module("pump").submit(bpy.context, *ops.Generate.build(bpy.context))


def test_generate_makes_packed_image_and_material(fake, scene):
    assert generate() == {"FINISHED"}
    (req,) = fake.generate_requests
    assert req.model == "gemini-nano-banana-2.1"                 # the default: live today
    assert req.headers.get("x-goog-api-key") == KEY and not req.key_in_url
    assert user_parts(req)[0]["text"] == "a weathered stone wall"
    cfg = req.body["generationConfig"]
    assert cfg["responseModalities"] == ["TEXT", "IMAGE"]
    assert cfg["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "1K"}   # AUTO from 320x180
    assert get(get(cfg, "thinkingConfig"), "thinkingLevel") == "MINIMAL"    # "Fast"
    (img,) = nb_images()
    assert img.packed_file is not None
    assert tuple(img.size) == req.image_size
    assert_pixels_match(img, req.seed)
    cube = bpy.data.objects["Cube"]
    mat = cube.active_material
    tex = next(n for n in mat.node_tree.nodes if n.type == "TEX_IMAGE")
    assert tex.image == img
    bsdf = next(n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED")
    assert bsdf.inputs["Base Color"].links[0].from_node == tex
    assert status().level == "INFO" and "1 image from Nano Banana 2.1" in status().text
    assert scene.nanobanana.file_cost_usd == pytest.approx(0.034, abs=0.01)
    sidecar = next(s for s in history_sidecars() if s["id"] == img["nanobanana_entry"])
    assert sidecar["prompt"] == "a weathered stone wall" and sidecar["cost_usd"] == pytest.approx(0.034, abs=0.01)


def test_result_survives_save_and_reopen_and_key_is_not_saved(fake, scene, tmp_path):
    generate(result_target="IMAGE")
    (img,) = nb_images()
    seed, name = fake.generate_requests[-1].seed, img.name      # "Image only": no user but us
    path = str(tmp_path / "scene.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=path)
    again = bpy.data.images[name]
    assert again.packed_file is not None
    assert_pixels_match(again, seed)
    with open(path, "rb") as fh:
        assert KEY.encode() not in fh.read()
    for sidecar in history_sidecars():
        assert KEY not in repr(sidecar)


def test_generate_pro_sends_size_and_ratio(fake, scene):
    assert generate(model="gemini-3-pro-image", aspect_ratio="3:2", image_size="2K",
                    result_target="IMAGE") == {"FINISHED"}
    cfg = fake.generate_requests[-1].body["generationConfig"]["imageConfig"]
    assert cfg == {"aspectRatio": "3:2", "imageSize": "2K"}
    (img,) = nb_images()
    assert img.size[0] > img.size[1]


def test_reference_images_are_sent(fake, scene):
    s = scene.nanobanana
    ref = bpy.data.images.new("brick_ref", 32, 16)
    item = s.references.add()
    item.image = ref
    assert generate(result_target="IMAGE") == {"FINISHED"}
    parts = user_parts(fake.generate_requests[-1])
    blobs = [p["inlineData"] for p in parts if "inlineData" in p]
    # proto JSON accepts both spellings; google-genai 3.4 sends snake_case here
    mime = blobs[0].get("mimeType") or blobs[0].get("mime_type")
    assert len(blobs) == 1 and mime in ("image/png", "image/jpeg")
    assert any("brick_ref" in p.get("text", "") for p in parts)


def test_too_many_references_is_refused_before_sending(fake, scene):
    s = scene.nanobanana
    for i in range(15):
        s.references.add().image = bpy.data.images.new(f"r{i}", 8, 8)
    expect_error(generate, "Nano Banana 2.1 accepts up to 14 input images; remove 1 reference(s)")
    assert fake.generate_requests == []


def _textured_cube(colorspace="Non-Color"):
    original = bpy.data.images.new("wall_rough", 64, 64)
    original.generated_color = (0.2, 0.4, 0.6, 1.0)
    original.colorspace_settings.name = colorspace
    mat, node = texture_on(bpy.data.objects["Cube"], original, "Wall")
    return mat, node, original


def test_edit_texture_replaces_node_image_and_keeps_original(fake, scene):
    mat, node, original = _textured_cube()
    scene.nanobanana.prompt = "add moss in the cracks"
    assert bpy.ops.nanobanana.edit_texture() == {"FINISHED"}
    req = fake.generate_requests[-1]
    parts = user_parts(req)
    assert parts[0]["text"] == "add moss in the cracks"
    (blob,) = [p["inlineData"] for p in parts if "inlineData" in p]
    assert b64(blob["data"])[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")
    assert req.body["generationConfig"]["imageConfig"]["aspectRatio"] == "1:1"  # AUTO from 64x64
    new = node.image
    assert new != original and new.packed_file is not None
    assert new.colorspace_settings.name == "Non-Color"
    assert original.name in bpy.data.images and original.use_fake_user
    assert bpy.ops.nanobanana.revert_texture() == {"FINISHED"}
    assert node.image == original


def test_edit_texture_without_texture_explains(fake, scene):
    expect_error(bpy.ops.nanobanana.edit_texture, "No texture selected")
    assert fake.generate_requests == []


def test_edit_render_uses_camera_render_in_background(fake, scene):
    scene.nanobanana.prompt = "make this clay render a stone castle at dusk"
    assert bpy.ops.nanobanana.edit_render() == {"FINISHED"}
    req = fake.generate_requests[-1]
    (blob,) = [p["inlineData"] for p in user_parts(req) if "inlineData" in p]
    import io

    from PIL import Image  # the add-on's bundled Pillow
    sent = np.asarray(Image.open(io.BytesIO(b64(blob["data"]))).convert("RGB"), dtype=np.float32)
    assert sent.shape == (180, 320, 3)                     # the camera render, at its size
    assert sent.std() > 5                                  # the cube is in it, not a blank frame
    assert req.body["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9"
    assert len(nb_images()) == 1
    leftovers = [f for f in os.listdir(os.environ["TMPDIR"]) if f.startswith(addon_module("capture").RENDER_PREFIX)]
    assert leftovers == []


def test_viewport_capture_turns_overlays_off_and_encodes(addon):
    capture = addon_module("capture")
    overlay = SimpleNamespace(show_overlays=True)
    ctx = SimpleNamespace(space_data=SimpleNamespace(type="VIEW_3D", overlay=overlay),
                          region=SimpleNamespace(width=400, height=200))
    seen = {}

    def reader(context, width, height):          # stands in for the GPU offscreen draw
        seen["overlays"] = overlay.show_overlays
        arr = np.zeros((height, width, 4), dtype=np.uint8)
        arr[0, :, 0] = 255                       # bottom row red (GPU rows are bottom-up)
        return arr

    data = capture.viewport(ctx, reader=reader)
    assert seen["overlays"] is False and overlay.show_overlays is True
    import io

    from PIL import Image
    im = Image.open(io.BytesIO(data))
    assert im.size == (400, 200)
    assert im.getpixel((0, 199))[0] == 255 and im.getpixel((0, 0))[0] == 0


def test_refine_sends_previous_turn_with_thought_signature(fake, scene):
    assert generate(model="gemini-3-pro-image", result_target="IMAGE") == {"FINISHED"}
    first = fake.generate_requests[-1]
    scene.nanobanana.prompt = "now make it night"
    assert bpy.ops.nanobanana.refine() == {"FINISHED"}
    second = fake.generate_requests[-1]
    assert second.status == 200 and second.model == "gemini-3-pro-image"
    contents = second.body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    model_parts = contents[1]["parts"]
    sigs = [p["thoughtSignature"] for p in model_parts if "thoughtSignature" in p]
    issued = {b64(x) for x in fake.issued_signatures}
    assert sigs and {b64(x) for x in sigs} <= issued
    first_sigs = [p["thoughtSignature"] for c in first.response["candidates"]
                  for p in c["content"]["parts"] if "thoughtSignature" in p]
    assert [b64(x) for x in first_sigs] == [b64(x) for x in sigs]   # unchanged, in order
    assert contents[2]["parts"][0]["text"] == "now make it night"
    assert len(nb_images()) == 2


def test_variations_run_in_parallel_and_all_arrive(fake, scene):
    fake.latency = 1.0
    scene.nanobanana.variations, scene.nanobanana.result_target = 3, "IMAGE"
    job = start_generate()
    assert fake.wait_for_requests(3, timeout=5)
    # All three were sent before the first answer came back: in parallel, not in turn.
    assert not any(r.answered.is_set() for r in fake.generate_requests)
    assert wait_until(lambda: job.state == "done", 10)
    for j in runtime().STATE.jobs.drain():
        addon_module("pump").apply_job(j)
    assert len(nb_images()) == 3 and len(job.result.results) == 3


def test_online_access_off_sends_nothing(fake, scene):
    bpy.context.preferences.system.use_online_access = False
    expect_error(generate, "Online access is disabled")
    assert fake.requests == []
    assert status().level == "ERROR" and "Online access is disabled" in status().text
    assert status().fix == "ENABLE_ONLINE_ACCESS"


@pytest.mark.parametrize("behaviour, words, fix", [
    (lambda: R.api_key_invalid(), "API key was rejected", "OPEN_PREFERENCES"),
    (lambda: R.not_found("gemini-nano-banana-2.1"), "is not available", None),
    (lambda: R.blocked("PROHIBITED_CONTENT"), "blocked the prompt", None),
    (lambda: R.finish("IMAGE_SAFETY"), "no image because", None),
    (lambda: R.text_only("Which style do you want?"), "Which style do you want?", None),
    (lambda: R.garbage_image(), "could not be read", None),
    (lambda: R.permission_denied(), "permission denied", "OPEN_PREFERENCES"),
])
def test_failures_surface_as_error_and_leave_nothing(fake, scene, behaviour, words, fix):
    fake.script(behaviour())
    images_before, mats_before = len(bpy.data.images), len(bpy.data.materials)
    expect_error(generate, words)
    assert status().level == "ERROR" and words in status().text, status().text
    assert status().fix == fix
    from ui_double import Layout
    drawn = Layout()
    addon_module("panels").draw_main(drawn, bpy.context)
    assert words in " ".join(drawn.labels)                 # the message is in the panel
    fix_ops = {"OPEN_PREFERENCES": "nanobanana.open_preferences", "SWITCH_MODEL": "nanobanana.switch_model"}
    if fix:
        assert fix_ops[fix] in drawn.operators              # with its fix button
    assert KEY not in status().text
    assert (len(bpy.data.images), len(bpy.data.materials)) == (images_before, mats_before)


def test_quota_is_retried_after_the_servers_wait_then_reported(fake, scene):
    fake.script(*[R.quota(retry_delay="0.2s") for _ in range(4)])
    expect_error(generate, "Quota reached for Nano Banana 2.1. Try again in 1 s or switch to Nano Banana 2 Lite")
    sent = fake.generate_requests
    assert len(sent) == 4 and all(b.received_at - a.received_at >= 0.19 for a, b in zip(sent, sent[1:]))
    assert status().suggested_model == "gemini-3.1-flash-lite-image"


def test_transient_error_is_retried_and_succeeds(fake, scene):
    fake.script(R.quota(retry_delay="0.1s"), R.image())
    assert generate() == {"FINISHED"}
    assert len(fake.generate_requests) == 2 and len(nb_images()) == 1


def test_cancel_returns_at_once_and_a_late_image_goes_to_history(fake, scene):
    fake.latency = 2.0
    job = start_generate()
    assert fake.wait_for_requests(1, timeout=5)
    t0 = time.monotonic()
    assert bpy.ops.nanobanana.cancel(job_id=job.id) == {"FINISHED"}
    assert time.monotonic() - t0 < 1.0
    assert job.state == "cancelled"
    assert "if Gemini still answers, the image will be in History" in status().text
    assert fake.requests[0].answered.wait(5)       # the server answers after the cancel
    assert wait_until(lambda: any(s.get("cancelled") for s in history_sidecars()), 5)
    assert runtime().STATE.jobs.drain() == []      # ...kept in history, not put in the file
    assert nb_images() == []


def test_result_for_a_closed_file_goes_to_history_only(fake, scene):
    fake.latency = 1.0
    pump = addon_module("pump")
    job = start_generate()
    bpy.ops.wm.read_homefile(use_empty=True)      # the artist opens another file
    assert wait_until(lambda: job.state != "running", 10)
    for j in runtime().STATE.jobs.drain():
        pump.apply_job(j)
    assert nb_images() == []
    assert status().level == "WARNING" and "history" in status().text
    entry_ids = {s["id"] for s in history_sidecars() if s.get("image_file")}
    assert job.result.entries[0].id in entry_ids


def test_variations_land_one_image_per_timer_tick(fake, scene):
    """The UI path: the timer packs one image per tick, then places them all at once in a
    tick of its own (the one whose redraw decodes the shown image packs nothing)."""
    pump = addon_module("pump")
    scene.nanobanana.variations = 4
    scene.nanobanana.pick_variation = False     # placed at once (picking: test_variation_pick.py)
    job = start_generate()
    assert wait_until(lambda: job.state == "done", 10)
    cube = bpy.data.objects["Cube"]
    before = cube.active_material
    counts, placed = [], []
    for _ in range(7):
        next_in = pump._tick()
        counts.append(len(nb_images()))
        placed.append(cube.active_material is not None and cube.active_material != before)
        if not pump._landings:
            break
        assert next_in == 0.0                  # images waiting: come straight back
    assert counts == [1, 2, 3, 4, 4]
    assert placed == [False, False, False, False, True]   # placed once all four were packed
    assert "4 images from Nano Banana 2.1" in status().text
    assert pump._tick() == pump.INTERVAL_IDLE


def test_job_list_shows_running_jobs_with_progress_and_cancel(fake, scene):
    from ui_double import Layout
    fake.latency = 1.5
    pump, panels = addon_module("pump"), addon_module("panels")
    job = start_generate()
    time.sleep(0.3)
    layout = Layout()
    panels.draw_main(layout, bpy.context)
    assert any(t.startswith("Nano Banana 2.1 · ") and t.endswith(" s") for t in layout.labels)
    ((factor, text),) = layout.progress_bars
    assert 0.0 < factor < 0.95 and text == "a weathered stone wall"
    assert ("nanobanana.cancel", "job_id", job.id) in layout.op_props
    assert wait_until(lambda: job.state == "done", 10)
    for j in runtime().STATE.jobs.drain():
        pump.apply_job(j)
    layout = Layout()
    panels.draw_main(layout, bpy.context)
    assert layout.progress_bars == []
    assert "1 image from Nano Banana" in " ".join(layout.labels)


def test_long_prompt_from_a_text_datablock(fake, scene):
    text = bpy.data.texts.new("prompt")
    text.write("A seamless tileable texture of old oak planks,\nwith deep grain and nail holes.")
    scene.nanobanana.prompt_text = text
    assert generate(result_target="IMAGE") == {"FINISHED"}
    sent = user_parts(fake.generate_requests[-1])[0]["text"]
    assert sent == "A seamless tileable texture of old oak planks,\nwith deep grain and nail holes."


def test_history_next_to_the_saved_blend_when_chosen(fake, scene, tmp_path):
    from tools.blender_session import MODULE
    prefs = bpy.context.preferences.addons[MODULE].preferences
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "shot.blend"))
    prefs.history_location = "BLEND"
    try:
        assert generate(result_target="IMAGE") == {"FINISHED"}
    finally:
        prefs.history_location = "USER"
    saved = list((tmp_path / "nanobanana_history").glob("*/*.png"))
    assert len(saved) == 1
    sidecar = saved[0].with_suffix(".json").read_text()
    assert str(tmp_path / "shot.blend") in sidecar


def test_truncated_image_is_caught_before_landing_and_nothing_is_left(fake, scene):
    import base64 as b64mod

    from fake_gemini.responses import pattern_png
    broken = pattern_png(5, 256, 256)[:3000]           # a valid header, then cut short
    fake.script(R.custom(200, {"candidates": [{"content": {"role": "model", "parts": [
        {"inlineData": {"mimeType": "image/png", "data": b64mod.b64encode(broken).decode()}}]},
        "finishReason": "STOP", "index": 0}], "modelVersion": "gemini-nano-banana-2.1"}))
    before = len(bpy.data.images)
    expect_error(generate, "could not be read")
    assert len(bpy.data.images) == before


def test_poll_reason_names_what_is_missing(addon, monkeypatch):
    from conftest import MODULE
    ops = addon_module("operators")
    prefs = bpy.context.preferences.addons[MODULE].preferences
    saved, prefs.api_key = prefs.api_key, ""
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    bpy.context.preferences.system.use_online_access = False
    assert "Online access is disabled" in ops.blocked_reason(bpy.context)
    bpy.context.preferences.system.use_online_access = True
    assert "No Gemini API key" in ops.blocked_reason(bpy.context)
    monkeypatch.setenv("GOOGLE_API_KEY", "env-key")
    assert ops.blocked_reason(bpy.context) == ""
    prefs.api_key = saved


def test_switch_model_fix_after_a_retired_model(fake, scene):
    s = scene.nanobanana
    s.model, s.custom_model = "CUSTOM", "gemini-2.5-flash-image-preview"
    expect_error(generate, "was retired by Google. Switch to Nano Banana 2 Lite.")
    assert fake.requests == []                       # known retired: refused before sending
    assert status().suggested_model == "gemini-3.1-flash-lite-image"
    assert bpy.ops.nanobanana.switch_model(model=status().suggested_model) == {"FINISHED"}
    assert s.model == "gemini-3.1-flash-lite-image"
    assert generate(result_target="IMAGE") == {"FINISHED"}


def test_empty_prompt_is_refused_before_any_capture_or_request(fake, scene):
    scene.nanobanana.prompt = "   "
    expect_error(bpy.ops.nanobanana.edit_render, "Type a prompt first")
    assert fake.requests == []


def test_refine_after_a_texture_edit_goes_back_on_the_same_node(fake, scene):
    mat, node, original = _textured_cube(colorspace="sRGB")
    scene.nanobanana.prompt = "add moss in the cracks"
    assert bpy.ops.nanobanana.edit_texture() == {"FINISHED"}
    first = node.image
    scene.nanobanana.prompt = "less moss, more rust"
    assert bpy.ops.nanobanana.refine() == {"FINISHED"}
    assert node.image not in (first, original) and node.image.packed_file is not None
    assert [c["role"] for c in fake.generate_requests[-1].body["contents"]] == ["user", "model", "user"]
    assert bpy.ops.nanobanana.revert_texture() == {"FINISHED"}
    assert node.image == original                 # revert goes to the very first original


def _sent_image(fake):
    import io

    from PIL import Image
    (blob,) = [p["inlineData"] for p in user_parts(fake.generate_requests[-1]) if "inlineData" in p]
    return Image.open(io.BytesIO(b64(blob["data"]))).convert("RGB")


def test_edit_texture_sends_unsaved_paint_not_the_stale_file(fake, scene, tmp_path):
    mat, node, original = _textured_cube(colorspace="sRGB")
    path = str(tmp_path / "wall.png")
    original.filepath_raw, original.file_format = path, "PNG"
    original.save()                                   # on disk: the blue-grey generated colour
    original.pixels.foreach_set(np.tile(np.array([1.0, 0.0, 0.0, 1.0], dtype=np.float32), 64 * 64))
    assert original.is_dirty                          # painted red, not saved
    assert bpy.ops.nanobanana.edit_texture() == {"FINISHED"}
    r, g, b = _sent_image(fake).getpixel((10, 10))
    assert r > 240 and g < 20 and b < 20


def test_edit_texture_of_a_float_exr_sends_srgb_colour(fake, scene, tmp_path):
    mat, node, _ = _textured_cube(colorspace="sRGB")
    exr = bpy.data.images.new("hdr", 32, 32, float_buffer=True)
    exr.pixels.foreach_set(np.tile(np.array([0.5, 0.5, 0.5, 1.0], dtype=np.float32), 32 * 32))
    exr.filepath_raw, exr.file_format = str(tmp_path / "hdr.exr"), "OPEN_EXR"
    exr.save()
    exr.pack()
    node.image = exr
    assert bpy.ops.nanobanana.edit_texture() == {"FINISHED"}
    r, g, b = _sent_image(fake).getpixel((5, 5))
    assert abs(r - 188) <= 3 and r == g == b          # linear 0.5 is sRGB 188


@pytest.mark.parametrize("space, sent, result_space", [
    ("Linear Rec.709", 188, "sRGB"),       # colour: the artist sees sRGB 188, so does Gemini
    ("Non-Color", 128, "Non-Color"),       # data (a roughness map): values as they are
])
def test_float_textures_go_out_as_seen_and_come_back_tagged_right(fake, scene, tmp_path, space, sent,
                                                                   result_space):
    mat, node, _ = _textured_cube(colorspace="sRGB")
    exr = bpy.data.images.new("lin", 32, 32, float_buffer=True)
    exr.filepath_raw, exr.file_format = str(tmp_path / "lin.exr"), "OPEN_EXR"
    exr.save()
    exr.pack()
    exr.colorspace_settings.name = space      # (re-reads the file), then the artist paints:
    exr.pixels.foreach_set(np.tile(np.array([0.5, 0.5, 0.5, 1.0], dtype=np.float32), 32 * 32))
    node.image = exr
    assert bpy.ops.nanobanana.edit_texture() == {"FINISHED"}
    r, g, b = _sent_image(fake).getpixel((5, 5))
    assert abs(r - sent) <= 3 and r == g == b
    assert node.image != exr and node.image.colorspace_settings.name == result_space


def test_an_unexpected_failure_while_applying_is_reported_and_the_pump_survives(fake, scene, monkeypatch):
    apply = addon_module("apply")
    real = apply.packed_image
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated Blender failure")
        return real(*args, **kwargs)
    monkeypatch.setattr(apply, "packed_image", flaky)
    before = len(bpy.data.images)
    expect_error(lambda: generate(variations=2, result_target="IMAGE"), "simulated Blender failure")
    assert len(bpy.data.images) == before, [i.name for i in bpy.data.images]  # first one removed
    assert "saved in the Nano Banana history" in status().text
    monkeypatch.setattr(apply, "packed_image", real)
    assert generate(variations=1) == {"FINISHED"}      # and the next job still lands


def test_an_unexpected_failure_while_capturing_is_a_clear_error(fake, scene, monkeypatch):
    capture = addon_module("capture")

    def broken(context, max_side=2048):
        raise RuntimeError("render engine exploded")
    monkeypatch.setattr(capture, "camera_render", broken)
    expect_error(bpy.ops.nanobanana.edit_render, "Could not prepare the input")
    assert fake.requests == []


def test_key_and_endpoint_from_the_environment(fake, scene, monkeypatch):
    from conftest import MODULE
    prefs = bpy.context.preferences.addons[MODULE].preferences
    saved = prefs.api_key, prefs.base_url
    prefs.api_key, prefs.base_url = "", ""
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
    try:
        assert generate(result_target="IMAGE") == {"FINISHED"}
    finally:
        prefs.api_key, prefs.base_url = saved
    assert fake.generate_requests[-1].headers["x-goog-api-key"] == KEY


def test_seamless_texture_asks_for_a_tileable_result_but_not_for_render_edits(fake, scene):
    import importlib

    from conftest import MODULE
    wire = importlib.import_module(f"{MODULE}.core.wire")   # loaded lazily by the add-on
    scene.nanobanana.seamless = True
    assert generate(result_target="IMAGE") == {"FINISHED"}
    assert user_parts(fake.generate_requests[-1])[0]["text"] == f"a weathered stone wall\n\n{wire.SEAMLESS}"
    assert bpy.ops.nanobanana.edit_render() == {"FINISHED"}
    assert user_parts(fake.generate_requests[-1])[0]["text"] == "a weathered stone wall"


def test_edit_render_of_the_last_f12_render(fake, scene):
    """Issue 13: edit the final render just made, not only the viewport or a quick render."""
    scene.nanobanana.render_source = "RENDER_RESULT"
    scene.render.engine = "BLENDER_WORKBENCH"
    expect_error(bpy.ops.nanobanana.edit_render, "no final render to edit yet")
    assert fake.generate_requests == []
    bpy.ops.render.render()                                  # what F12 does
    assert bpy.ops.nanobanana.edit_render() == {"FINISHED"}
    sent = _sent_image(fake)
    assert sent.size == (320, 180)
    assert np.asarray(sent, dtype=np.float32).std() > 5      # the cube is in it
