"""Issue 15: the panel an artist can read. Every panel draws in every state and editor,
each editor offers only what works there, and no label we hand to Blender is wider than
the sidebar gives it (so Blender never cuts a message in the middle)."""
from __future__ import annotations

import time

import bpy
import pytest
from fake_gemini import responses as R
from helpers import addon_module, runtime, status, wait_until
from ui_double import Layout

REFUSAL = ("I can't create that image because it shows a real, identifiable person in a "
           "misleading situation. I can make a similar scene with a fictional character "
           "instead, or change the setting. Which would you like?")          # ~200 characters


class Ctx:
    """bpy.context with another editor and sidebar width (panels read only these)."""

    def __init__(self, space: str, width: int = 291):
        self.space_data = type("Space", (), {"type": space, "tree_type": "ShaderNodeTree"})()
        self.region = type("Region", (), {"width": width})()

    def __getattr__(self, name):
        return getattr(bpy.context, name)


def draw_all(space: str = "VIEW_3D", width: int = 291) -> Layout:
    panels = addon_module("panels")
    layout = Layout()
    ctx = Ctx(space, width)
    for _part, _label, draw, _opts in panels.SECTIONS:
        draw(layout, ctx)
    layout.ctx = ctx
    return layout


def assert_fits(layout: Layout) -> None:
    ui_text = addon_module("ui_text")
    room = ui_text.available(layout.ctx, 70)      # the most any label gets (no box, no icon)
    too_wide = [t for t in layout.labels if ui_text.text_width(t) > room]
    assert too_wide == [], too_wide


def _state_offline():
    bpy.context.preferences.system.use_online_access = False


def _state_no_key(monkeypatch):
    from conftest import MODULE
    bpy.context.preferences.addons[MODULE].preferences.api_key = ""   # the fake fixture restores it
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)


@pytest.mark.parametrize("space", ["VIEW_3D", "IMAGE_EDITOR", "NODE_EDITOR"])
@pytest.mark.parametrize("state", ["ready", "offline", "no_key", "long_prompt", "retired", "refusal",
                                   "result", "generating"])
def test_every_state_draws_and_fits_the_sidebar(fake, scene, monkeypatch, space, state):
    s = scene.nanobanana
    try:
        if state == "offline":
            _state_offline()
        elif state == "no_key":
            _state_no_key(monkeypatch)
        elif state == "long_prompt":
            s.prompt = "a weathered bronze fox statue on a mossy rock, soft studio light, " * 3
        elif state == "retired":
            bpy.ops.nanobanana.switch_model(model="gemini-2.5-flash-image")
        elif state == "refusal":
            fake.script(R.text_only(REFUSAL))
            with pytest.raises(RuntimeError):
                bpy.ops.nanobanana.generate()
        elif state == "result":
            assert bpy.ops.nanobanana.generate() == {"FINISHED"}
        elif state == "generating":
            fake.latency = 1.0
            ops = addon_module("operators")
            addon_module("pump").submit(bpy.context, *ops.Generate.build(bpy.context))
            time.sleep(0.2)
        drawn = draw_all(space)
        assert_fits(drawn)
        text = " ".join(drawn.labels)
        if state == "refusal":
            assert REFUSAL in text                        # in full, in Gemini's own words
        if state == "long_prompt":
            assert s.prompt.strip() in text               # the whole prompt can be read
        if state == "generating":
            assert drawn.progress_bars and "nanobanana.cancel" in drawn.operators
    finally:
        bpy.context.preferences.system.use_online_access = True
        runtime().STATE.jobs.cancel()
        runtime().STATE.jobs.drain()
        for sent in fake.requests:          # a cancelled request must not take the next
            sent.answered.wait(5)           # test's scripted answer


def test_each_editor_offers_only_what_works_there(fake, scene):
    view3d, image, node = draw_all("VIEW_3D"), draw_all("IMAGE_EDITOR"), draw_all("NODE_EDITOR")
    assert "nanobanana.edit_render" in view3d.operators and "result_target" in view3d.props
    for other in (image, node):
        assert "nanobanana.edit_render" not in other.operators and "result_target" not in other.props
        assert "nanobanana.generate" in other.operators and "nanobanana.edit_texture" in other.operators


def test_narrow_and_wide_sidebars_wrap_to_their_width(fake, scene):
    fake.script(R.text_only(REFUSAL))
    with pytest.raises(RuntimeError):
        bpy.ops.nanobanana.generate()
    narrow, wide = draw_all(width=220), draw_all(width=600)
    assert_fits(narrow)
    assert_fits(wide)
    assert len(narrow.labels) > len(wide.labels)
    assert REFUSAL in " ".join(narrow.labels) and REFUSAL in " ".join(wide.labels)


def test_a_message_can_be_dismissed_and_working_is_not_shown_as_done(fake, scene):
    fake.script(R.text_only(REFUSAL))
    with pytest.raises(RuntimeError):
        bpy.ops.nanobanana.generate()
    assert "nanobanana.dismiss_status" in draw_all().operators
    assert bpy.ops.nanobanana.dismiss_status() == {"FINISHED"}
    assert REFUSAL not in " ".join(draw_all().labels)
    runtime().set_status("Sent to Nano Banana 2.1…", "WORKING")
    assert "Sent to" not in " ".join(draw_all().labels)     # the job box shows the work instead
    assert status().level == "WORKING"


def test_running_jobs_are_in_the_editor_headers_with_cancel(fake, scene):
    fake.latency = 1.0
    ops = addon_module("operators")
    job = addon_module("pump").submit(bpy.context, *ops.Generate.build(bpy.context))
    from conftest import MODULE
    for header in ("VIEW3D_HT_header", "IMAGE_HT_header", "NODE_HT_header"):   # what Blender calls
        draws = [f for f in getattr(bpy.types, header)._dyn_ui_initialize() if f.__module__ == f"{MODULE}.blender.classes.header"]
        assert len(draws) == 1
        holder = type("Header", (), {"layout": Layout()})()
        draws[0](holder, bpy.context)
        assert any(t.startswith("Nano Banana 2.1 · ") for t in holder.layout.labels)
        assert ("nanobanana.cancel", "job_id", job.id) in holder.layout.op_props
    assert wait_until(lambda: job.state == "done", 10)
    runtime().STATE.jobs.drain()
    empty = type("Header", (), {"layout": Layout()})()
    draws[0](empty, bpy.context)
    assert empty.layout.labels == [] and empty.layout.operators == []


def test_test_key_answers_clearly(fake, scene):
    assert bpy.ops.nanobanana.test_key() == {"FINISHED"}
    text, level = addon_module("key_check").answer()
    assert level == "INFO" and "Nano Banana 2.1" in text and "Nano Banana Pro" in text
    from conftest import MODULE
    prefs = bpy.context.preferences.addons[MODULE].preferences
    saved, prefs.api_key = prefs.api_key, "wrong-key"
    try:
        with pytest.raises(RuntimeError, match="API key was rejected"):
            bpy.ops.nanobanana.test_key()
    finally:
        prefs.api_key = saved
