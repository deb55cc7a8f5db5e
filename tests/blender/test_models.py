"""Issue 9 in Blender: the add-on works on today's Gemini. The fake serves only the three
live ids (anything else answers 404), so a dead default, example or recall path fails here."""
from __future__ import annotations

import json

import bpy
import pytest
from fake_gemini import responses as R
from fake_gemini.models import LIVE_IDS, generic_spec
from helpers import addon_module, expect_error, runtime, status
from ui_double import Layout

NB21, PRO, LITE = "gemini-nano-banana-2.1", "gemini-3-pro-image", "gemini-3.1-flash-lite-image"
RETIRED = "gemini-2.5-flash-image"


def drawn_main() -> Layout:
    layout = Layout()
    addon_module("panels").draw_main(layout, bpy.context)
    return layout


def model_items(settings) -> dict[str, str]:
    """The Model menu as Blender gets it (dynamic items are not in bl_rna)."""
    return {i[0]: i[1] for i in addon_module("properties").model_items(settings, bpy.context)}


def model_ids(settings) -> list[str]:
    return list(model_items(settings))


def list_calls(fake) -> int:
    return sum(1 for r in fake.requests if r.action == "list")


@pytest.fixture
def live_reset(fake):
    """Forget the cached live list before and after a test that changes it."""
    lm = addon_module("live_models")

    def forget():
        lm.unregister()
        lm.cache_path().unlink(missing_ok=True)
        lm._live = type(lm._live)()
    forget()
    yield lm
    for mid in list(fake.models):
        if mid not in LIVE_IDS:
            del fake.models[mid]
    forget()


def test_fresh_scene_defaults_to_a_live_model_and_generates_first_try(fake, scene):
    s = scene.nanobanana
    assert s.model == NB21 and model_ids(s)[:3] == [NB21, PRO, LITE]
    assert not any("retired" in t for t in drawn_main().labels)
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    (sent,) = fake.generate_requests
    assert sent.model == NB21 and sent.status == 200


def test_scene_saved_with_a_retired_model_says_so_and_switches_in_one_click(fake, scene, tmp_path):
    s = scene.nanobanana
    s["model"] = 0        # what add-on 0.1 stored for gemini-2.5-flash-image
    path = str(tmp_path / "old.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    bpy.ops.wm.open_mainfile(filepath=path)
    s = bpy.context.scene.nanobanana
    assert s.model == RETIRED                      # shown as it was, never silently rewritten
    panel = drawn_main()
    assert "was retired by Google on 2026-10-02" in " ".join(panel.labels)
    assert ("nanobanana.switch_model", "model", LITE) in panel.op_props
    expect_error(bpy.ops.nanobanana.generate, "Nano Banana (gemini-2.5-flash-image) was retired")
    assert fake.generate_requests == []            # refused before anything was sent
    assert bpy.ops.nanobanana.switch_model(model=LITE) == {"FINISHED"}
    assert s.model == LITE and "retired" not in " ".join(drawn_main().labels)
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    assert fake.generate_requests[-1].model == LITE


def test_a_model_only_the_live_list_knows_appears_and_generates(fake, scene, live_reset):
    fake.models["gemini-4-flash-image"] = generic_spec("gemini-4-flash-image")
    assert bpy.ops.nanobanana.refresh_models() == {"FINISHED"}
    assert list_calls(fake) == 1
    s = scene.nanobanana
    items = model_items(s)
    assert items["gemini-4-flash-image"].endswith("(new)") and items[NB21] == "Nano Banana 2.1"
    s.model = "gemini-4-flash-image"
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    sent = fake.generate_requests[-1]
    assert sent.model == "gemini-4-flash-image" and sent.status == 200
    cache = json.loads(live_reset.cache_path().read_text())
    assert "gemini-4-flash-image" in [m["id"] for m in cache["models"]]
    # Within the day, the next tick reads the cache instead of asking again.
    addon_module("pump")._tick()
    assert list_calls(fake) == 1


def test_a_model_missing_from_the_live_list_is_called_gone_before_sending(fake, scene, live_reset):
    assert bpy.ops.nanobanana.refresh_models() == {"FINISHED"}
    s = scene.nanobanana
    s.model, s.custom_model = "CUSTOM", "gemini-5-image-preview"
    expect_error(bpy.ops.nanobanana.generate, "is not offered to your API key")
    assert fake.generate_requests == []


def test_online_access_off_never_calls_the_models_endpoint(fake, scene, live_reset):
    bpy.context.preferences.system.use_online_access = False
    try:
        assert bpy.ops.nanobanana.refresh_models() == {"CANCELLED"}
        addon_module("pump")._tick()
        drawn_main()
        assert model_ids(scene.nanobanana)[:3] == [NB21, PRO, LITE]     # the catalog alone
    finally:
        bpy.context.preferences.system.use_online_access = True
    assert list_calls(fake) == 0


def test_a_failing_models_endpoint_is_silent_and_the_catalog_is_used(fake, scene, live_reset):
    prefs = bpy.context.preferences.addons[addon_module("preferences").ADDON_ID].preferences
    prefs.api_key = "a-key-the-fake-rejects"
    runtime().set_status("")
    try:
        assert bpy.ops.nanobanana.refresh_models() == {"FINISHED"}
    finally:
        from conftest import KEY
        prefs.api_key = KEY
    assert not live_reset.live().known and model_ids(scene.nanobanana)[:3] == [NB21, PRO, LITE]
    assert status().text == ""                     # nothing shown for it


def test_every_switch_between_models_keeps_ratio_size_and_request_valid(fake, scene):
    models = addon_module("operators").models
    ops = addon_module("operators")
    s = scene.nanobanana
    ids = [m.id for m in models.LIVE]
    for a in ids:
        info_a = models.lookup(a)
        for ratio in ("AUTO", *info_a.aspect_ratios):
            for size in info_a.sizes:
                for b in ids:
                    s.model = a
                    s.aspect_ratio, s.image_size = ratio, size
                    s.model = b
                    info_b = models.lookup(b)
                    assert s.image_size in info_b.sizes, (a, b, size)            # never blank
                    assert s.aspect_ratio == "AUTO" or s.aspect_ratio in info_b.aspect_ratios
                    request, _target = ops.Generate.build(bpy.context)
                    assert request.model == b
                    assert request.image_size is None or request.image_size in info_b.image_sizes
                    assert request.aspect_ratio in info_b.aspect_ratios, (a, b, ratio)


def test_a_switch_that_changes_a_setting_says_what_changed(fake, scene):
    s = scene.nanobanana
    s.model = NB21
    s.aspect_ratio, s.image_size = "8:1", "4K"
    s.model = PRO
    assert (s.aspect_ratio, s.image_size) == ("21:9", "4K")
    assert status().level == "WARNING" and "aspect ratio 8:1 → 21:9" in status().text
    s.model = LITE
    assert s.image_size == "1K" and "size 4K → 1K" in status().text
    assert "Adjusted for Nano Banana 2 Lite" in " ".join(drawn_main().labels)


def test_thinking_choice_only_for_models_that_take_it(fake, scene):
    s = scene.nanobanana
    s.model, s.speed = NB21, "BEST"
    assert "speed" in drawn_main().props
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    s.model = PRO
    assert "speed" not in drawn_main().props
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    nb21, pro = fake.generate_requests
    assert "HIGH" in json.dumps(nb21.body["generationConfig"]) and "thinking" not in json.dumps(pro.body)


def test_a_ratio_rewritten_on_the_way_back_is_reported(fake, scene):
    scene.nanobanana.aspect_ratio = "16:9"
    fake.script(R.image(width=96, height=96))
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    assert status().level == "WARNING" and "Asked for 16:9 but the image came back 96×96" in status().text


def test_recall_and_refine_of_a_retired_model_offer_the_switch(fake, scene):
    s = scene.nanobanana
    s.prompt, s.result_target = "from the old days", "IMAGE"
    assert bpy.ops.nanobanana.generate() == {"FINISHED"}
    hist = runtime().history()
    entry = next(e for e in hist.entries() if e.prompt == "from the old days")
    meta = json.loads(entry.sidecar.read_text())
    meta["model"] = RETIRED                          # as if made before the retirement
    entry.sidecar.write_text(json.dumps(meta))
    addon_module("gallery").invalidate()
    s.model = PRO
    assert bpy.ops.nanobanana.history_recall(entry_id=entry.id) == {"FINISHED"}
    assert s.model == RETIRED and "was retired" in status().text
    assert status().suggested_model == LITE and status().fix == "SWITCH_MODEL"
    assert bpy.ops.nanobanana.history_continue(entry_id=entry.id) == {"FINISHED"}
    s.prompt = "now make it blue"
    expect_error(bpy.ops.nanobanana.refine, "was retired by Google")
    assert bpy.ops.nanobanana.switch_model(model=LITE) == {"FINISHED"}
    assert bpy.ops.nanobanana.refine() == {"FINISHED"}
    assert fake.generate_requests[-1].model == LITE
