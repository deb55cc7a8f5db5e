"""Issue 13 inside Blender (PyPI bpy): the registered `-c nanobanana` command's function
called with argv (files, JSON summary, exit codes), and batches sent from the panel's
operators, fetched into history at half price and into the file they were sent from."""
from __future__ import annotations

import json

import bpy
import pytest
from conftest import KEY
from fake_gemini import responses as R
from helpers import addon_module, history_sidecars, nb_images, run_cli, runtime

PNG = b"\x89PNG\r\n\x1a\n"



def test_the_command_is_registered(addon):
    """Registered at enable; cli.py itself loads when the command runs (see test_install's
    check of what enabling imports)."""
    assert addon_module("registration")._cli_handle is not None


def test_generate_from_the_command_function(fake, scene, tmp_path, capsys):
    before = len(nb_images())
    code, s, err = run_cli(capsys, "generate", "--prompt", "a rusty barrel", "--variations", "2",
                           "--ratio", "1:1", "--size", "2K", "--out", str(tmp_path))
    assert code == 0 and s["ok"] and s["images"] == 2 and len(s["files"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-rusty-barrel.png", "a-rusty-barrel_2.png"]
    assert all(open(f, "rb").read()[:8] == PNG for f in s["files"])
    assert len(nb_images()) == before + 2                       # also in the open file
    ic = fake.generate_requests[0].body["generationConfig"]["imageConfig"]
    assert ic == {"aspectRatio": "1:1", "imageSize": "2K"}
    assert "nanobanana: [1/1] sent to Nano Banana 2.1" in err
    # the bytes written are the ones in history
    hist = {i["history_id"]: i["history_image"] for i in s["results"][0]["images"]}
    for img in s["results"][0]["images"]:
        assert open(img["file"], "rb").read() == open(hist[img["history_id"]], "rb").read()


def test_exit_codes_from_the_command_function(fake, scene, capsys):
    prefs = bpy.context.preferences
    prefs.system.use_online_access = False
    try:
        code, s, _ = run_cli(capsys, "generate", "--prompt", "x")
    finally:
        prefs.system.use_online_access = True
    assert code == 3 and s["error"]["kind"] == "offline"
    code, s, err = run_cli(capsys, "generate", "--variations", "20", "--prompt", "x")
    assert code == 2 and "--variations" in err
    fake.script(R.finish("IMAGE_SAFETY"))
    code, s, _ = run_cli(capsys, "generate", "--prompt", "x")
    assert code == 4 and s["results"][0]["status"] == "failed"
    fake.script(R.error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."))
    code, s, _ = run_cli(capsys, "generate", "--prompt", "x")
    assert code == 1
    assert KEY not in json.dumps(s)
    code, s, _ = run_cli(capsys, "generate", "--prompt", "x", "--model", "gemini-2.5-flash-image")
    assert code == 2 and s["error"]["kind"] == "model_not_found"      # retired: refused before sending


def test_send_as_batch_then_fetch_into_the_file_at_half_price(fake, scene):
    batches = addon_module("batches")
    fake.batch_running_s = None
    s = scene.nanobanana
    s.variations = 3
    cost_before = s.file_cost_usd
    assert bpy.ops.nanobanana.batch_submit() == {"FINISHED"}
    (create,) = [r for r in fake.requests if r.action == "batchGenerateContent"]
    assert len(create.body["batch"]["inputConfig"]["requests"]["requests"]) == 3
    assert not fake.generate_requests
    rec = batches.records()[0]
    assert rec.state in ("PENDING", "RUNNING") and rec.total == 3
    assert "Batch sent: 3 image request(s)" in runtime().STATE.status.text
    before = len(nb_images())
    fake.finish_batch(rec.name)
    assert bpy.ops.nanobanana.batch_fetch() == {"FINISHED"}
    assert len(nb_images()) == before + 3                      # placed into the file it came from
    rec = batches.records()[0]
    assert rec.fetched and rec.images_saved == 3 and "finished, 3 of 3" in runtime().STATE.status.text
    mine = [m for m in history_sidecars() if (m.get("batch") or {}).get("name") == rec.name]
    assert len(mine) == 3 and all(m["cost_usd"] == pytest.approx(0.017, abs=0.002) for m in mine)
    assert s.file_cost_usd == pytest.approx(cost_before + 3 * 0.017, abs=0.005)
    assert bpy.ops.nanobanana.batch_fetch() == {"FINISHED"}    # nothing twice
    assert len(nb_images()) == before + 3


def test_each_line_of_the_prompt_text_as_a_batch(fake, scene):
    batches = addon_module("batches")
    fake.batch_running_s = None
    text = bpy.data.texts.new("props")
    text.write("a barrel\n# a comment\n\na crate\na lamp\n")
    scene.nanobanana.prompt_text = text
    n, cost = batches.batch_estimate(bpy.context, per_line=True)
    assert n == 3 and cost == pytest.approx(3 * 0.034 / 2, abs=0.005)
    assert bpy.ops.nanobanana.batch_submit(per_line=True) == {"FINISHED"}
    reqs = [r for r in fake.requests if r.action == "batchGenerateContent"][-1].body["batch"]["inputConfig"]
    prompts = [q["request"]["contents"][0]["parts"][0]["text"] for q in reqs["requests"]["requests"]]
    assert prompts == ["a barrel", "a crate", "a lamp"]
    assert scene.nanobanana.prompt_text == text              # the settings are left as they were


def test_a_batch_sent_before_a_restart_lands_in_its_file(fake, scene, tmp_path):
    batches = addon_module("batches")
    fake.batch_running_s = None
    path = str(tmp_path / "shot.blend")
    bpy.ops.wm.save_as_mainfile(filepath=path)
    assert bpy.ops.nanobanana.batch_submit() == {"FINISHED"}
    name = batches.records()[0].name
    # "Blender quits": the session forgets; only batches.json and the .blend remain.
    batches.STATE.__init__()
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.ops.wm.open_mainfile(filepath=path)
    fake.finish_batch(name)
    before = len(nb_images())
    assert bpy.ops.nanobanana.batch_fetch() == {"FINISHED"}
    assert len(nb_images()) == before + 1
    assert next(r for r in batches.records() if r.name == name).fetched


def test_cancel_a_batch_from_blender(fake, scene):
    batches = addon_module("batches")
    fake.batch_running_s = None
    scene.nanobanana.variations = 4
    assert bpy.ops.nanobanana.batch_submit() == {"FINISHED"}
    name = batches.records()[0].name
    fake.advance_batch(name, done=1)
    assert bpy.ops.nanobanana.batch_cancel(name=name) == {"FINISHED"}
    rec = next(r for r in batches.records() if r.name == name)
    assert rec.state == "CANCELLED" and rec.images_saved == 1 and len(rec.missing) == 3
    assert bpy.ops.nanobanana.batch_forget(name=name) == {"FINISHED"}
    assert all(r.name != name for r in batches.records())


def test_the_batches_panel_shows_price_state_and_buttons(fake, scene):
    from ui_double import Layout
    batches = addon_module("batches")
    fake.batch_running_s = None
    scene.nanobanana.variations = 2
    layout = Layout()
    batches.draw(layout, bpy.context)
    assert "nanobanana.batch_submit" in layout.operators
    assert "2 image(s) at ½ price · $0.034" in layout.labels
    assert bpy.ops.nanobanana.batch_submit() == {"FINISHED"}
    name = batches.records()[0].name
    layout = Layout()
    batches.draw(layout, bpy.context)
    assert "nanobanana.batch_fetch" in layout.operators and "nanobanana.batch_cancel" in layout.operators
    assert ("nanobanana.batch_cancel", "name", name) in layout.op_props
    assert any(t.startswith("running · 0/2 saved") for t in layout.labels)
    fake.expire_batch(name, done=1)
    assert bpy.ops.nanobanana.batch_fetch(name=name) == {"FINISHED"}
    layout = Layout()
    batches.draw(layout, bpy.context)
    assert any(t.startswith("expired · 1/2 saved · 1 not done") for t in layout.labels)
    assert ("nanobanana.batch_forget", "name", name) in layout.op_props


def test_the_registered_panel_and_poll_timer_run_the_batches_code(fake, scene):
    """Enabling registers thin declarations (classes/batches.py): the registered sub-panel
    draws the batches list, and the timer stub enabling registers runs batches' tick and
    hands Blender its next interval (None would stop the polling for good)."""
    import importlib
    import time

    from conftest import MODULE
    from helpers import status
    from ui_double import Layout
    decl, lazy, batches = addon_module("classes.batches"), addon_module("lazy"), addon_module("batches")
    panel = lazy.complete(next(c for c in decl.CLASSES if c.__name__ == "NANOBANANA_PT_batches_view3d"))
    holder = type("Panel", (), {"layout": Layout()})()
    panel.draw(holder, bpy.context)
    assert "nanobanana.batch_submit" in holder.layout.operators
    assert any(t.endswith("at ½ price · $0.017") for t in holder.layout.labels)

    errors = importlib.import_module(f"{MODULE}.core.errors")
    batches.STATE.next_poll = time.monotonic() + 3600          # drain only, no poll now
    batches.STATE.done.put(("error", errors.NanoBananaError("Batch worker answer for the timer test")))
    interval = decl.TICK()
    assert status().text == "Batch worker answer for the timer test"
    assert isinstance(interval, float) and interval > 0


def test_references_and_seamless_from_arguments(fake, scene, tmp_path, capsys):
    from fake_gemini.responses import pattern_png
    ref = tmp_path / "ref.png"
    ref.write_bytes(pattern_png(5, 48, 32))
    code, s, _ = run_cli(capsys, "generate", "--prompt", "oak planks", "--seamless", "--reference", str(ref))
    assert code == 0
    parts = fake.generate_requests[-1].body["contents"][-1]["parts"]
    assert parts[0]["text"].startswith("oak planks\n\nMake the result a seamless")
    assert parts[1]["text"] == "Reference image 1 (ref.png):"
    assert scene.nanobanana.seamless and len(scene.nanobanana.references) == 1
    # unset options keep the scene's settings (as --blend files expect)
    code, s, _ = run_cli(capsys, "generate", "--prompt", "oak planks")
    parts = fake.generate_requests[-1].body["contents"][-1]["parts"]
    assert code == 0 and "seamless" in parts[0]["text"] and parts[1]["text"].startswith("Reference image 1")
    code, s, _ = run_cli(capsys, "generate", "--prompt", "oak planks", "--no-seamless")
    assert "seamless" not in fake.generate_requests[-1].body["contents"][-1]["parts"][0]["text"]


def test_batch_submit_wait_writes_files_and_the_blend(fake, scene, tmp_path, capsys):
    fake.batch_pending_s, fake.batch_running_s = 0.1, 0.2
    fake.script(R.image(), R.text_only("Which chair do you mean?"))
    blend = tmp_path / "chairs.blend"
    code, s, err = run_cli(capsys, "batch", "submit", "--prompt", "a chair", "--variations", "2",
                           "--wait", "--poll", "0.1", "--out", str(tmp_path / "out"), "--blend", str(blend))
    assert code == 4 and s["blend"] == str(blend)            # one of the two was refused
    assert s["batch"]["state"] == "SUCCEEDED" and s["batch"]["images_saved"] == 1
    assert [r["status"] for r in s["results"]] == ["ok", "failed"]
    assert "Which chair" in s["results"][1]["message"]
    assert len(list((tmp_path / "out").glob("*.png"))) == 1
    assert "running" in err or "waiting" in err               # progress lines while it ran
    bpy.ops.wm.open_mainfile(filepath=str(blend))
    assert len(nb_images()) == 1                              # saved after the image was placed
