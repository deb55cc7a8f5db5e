"""`blender -c nanobanana ...` in the real Blender program: --help on each command, image
files and a .blend written, the JSON summary on stdout, progress on stderr, and one exit
code per failure class (2 bad arguments, 3 no key or offline, 4 refused, 1 failed);
history; and batches sent, polled and fetched from the command line."""
from __future__ import annotations

import json

from conftest import KEY
from fake_gemini import responses as R

PNG = b"\x89PNG\r\n\x1a\n"


def test_help_on_each_command(cli):
    run = cli.cli("--help")
    assert run.code == 0
    for word in ("generate", "edit", "history", "batch", "--online-mode", "Exit codes"):
        assert word in run.stdout
    run = cli.cli("generate", "--help")
    assert run.code == 0
    for opt in ("--prompt", "--prompts", "--model", "--ratio", "--size", "--variations", "--out", "--blend"):
        assert opt in run.stdout
    run = cli.cli("batch", "submit", "--help")
    assert run.code == 0 and "--wait" in run.stdout and "--prompts" in run.stdout


def test_generate_writes_files_a_blend_and_a_summary(cli, fake):
    out = cli.work / "gen"
    (cli.work / "props.txt").write_text("# texture set\na rusty barrel\n\na mossy crate\n")
    run = cli.cli("generate", "--prompts", "props.txt", "--variations", "2", "--ratio", "4:3",
                  "--out", str(out), "--blend", str(out / "props.blend"))
    assert run.code == 0, run.stderr
    s = run.summary
    assert s["command"] == "generate" and s["ok"] and s["exit_code"] == 0 and s["images"] == 4
    assert [r["prompt"] for r in s["results"]] == ["a rusty barrel", "a mossy crate"]
    assert len(s["files"]) == 4 and s["blend"] == str(out / "props.blend")
    assert s["cost_usd"] > 0
    for path in s["files"]:
        data = open(path, "rb").read()
        assert data[:8] == PNG and path.startswith(str(out))
    assert sorted(p.name for p in out.glob("*.png")) == [
        "001_a-rusty-barrel.png", "001_a-rusty-barrel_2.png", "002_a-mossy-crate.png", "002_a-mossy-crate_2.png"]
    assert len(fake.generate_requests) == 4
    assert {r.body["generationConfig"]["imageConfig"]["aspectRatio"] for r in fake.generate_requests} == {"4:3"}
    assert any("[1/2]" in ln for ln in run.progress) and any("[2/2]" in ln for ln in run.progress)
    # the images are packed into the .blend, with their history ids
    check = cli.raw("-b", str(out / "props.blend"), "--python-expr",
                    "import bpy; print('NB-IMAGES', sorted(i['nanobanana_entry'] for i in bpy.data.images "
                    "if 'nanobanana_entry' in i and i.packed_file is not None))")
    ids = sorted(i["history_id"] for r in s["results"] for i in r["images"])
    assert f"NB-IMAGES {ids}" in check.stdout
    # history, read back by the command line (no network needed)
    listed = cli.cli("history", "list", "--search", "barrel", online=False)
    assert listed.code == 0 and {e["id"] for e in listed.summary["entries"]} == {
        i["history_id"] for i in s["results"][0]["images"]}
    export = cli.work / "exported.png"
    shown = cli.cli("history", "show", ids[0], "--export", str(export), online=False)
    assert shown.code == 0 and shown.summary["entry"]["model"] == "gemini-nano-banana-2.1"
    assert export.read_bytes()[:8] == PNG


def test_exit_codes_for_each_failure_class(cli, fake):
    offline = cli.cli("generate", "--prompt", "x", online=False)
    assert offline.code == 3 and offline.summary["error"]["kind"] == "offline"
    assert "--online-mode" in offline.summary["error"]["message"]
    no_key = cli.cli("generate", "--prompt", "x", key=None)
    assert no_key.code == 3 and no_key.summary["error"]["kind"] == "missing_key"
    bad = cli.cli("generate", "--prompt", "x", "--ratio", "7:3")
    assert bad.code == 2 and "7:3" in bad.summary["error"]["message"] and "16:9" in bad.summary["error"]["message"]
    usage = cli.cli("generate", "--prompt", "x", "--no-such-flag")
    assert usage.code == 2 and "unrecognized arguments" in usage.stderr and usage.summary["exit_code"] == 2
    assert not fake.generate_requests                       # none of those sent anything
    fake.script(R.blocked("PROHIBITED_CONTENT"))
    refused = cli.cli("generate", "--prompt", "something forbidden", "--out", str(cli.work / "no"))
    assert refused.code == 4
    r = refused.summary["results"][0]
    assert r["status"] == "failed" and r["images"] == [] and "blocked" in r["message"]
    assert not (cli.work / "no").exists()
    fake.script(R.error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."))
    failed = cli.cli("generate", "--prompt", "x")
    assert failed.code == 1 and failed.summary["exit_code"] == 1
    assert KEY not in failed.stdout + failed.stderr + offline.stdout + no_key.stdout


def test_edit_an_image_file(cli, fake):
    src = cli.work / "crate.png"
    src.write_bytes(R.pattern_png(3, 96, 64))
    run = cli.cli("edit", "--input", str(src), "--prompt", "make it rusty", "--out", str(cli.work / "ed"))
    assert run.code == 0, run.stderr
    (path,) = run.summary["files"]
    assert path.endswith("crate_edited.png") and open(path, "rb").read()[:8] == PNG
    (sent,) = fake.generate_requests
    parts = sent.body["contents"][-1]["parts"]
    assert parts[0]["text"] == "make it rusty" and parts[1]["text"] == "Image to edit:"
    assert "inlineData" in parts[2] or "inline_data" in parts[2]


def test_batch_submit_status_fetch(cli, fake):
    fake.batch_running_s = None                        # RUNNING until the test moves it
    fake.script(R.image(), R.blocked(), R.image())
    (cli.work / "batch.txt").write_text("a red chair\na green chair\na blue chair\n")
    sub = cli.cli("batch", "submit", "--prompts", "batch.txt", "--ratio", "1:1")
    assert sub.code == 0, sub.stderr
    b = sub.summary["batch"]
    assert b["requests"] == 3 and b["state"] in ("PENDING", "RUNNING") and b["price_factor"] == 0.5
    assert not fake.generate_requests and len(fake.batches) == 1
    status = cli.cli("batch", "status")
    assert status.code == 0 and status.summary["batches"][0]["state"] == "RUNNING"
    fake.finish_batch(b["name"])
    out = cli.work / "batch-out"
    got = cli.cli("batch", "fetch", b["name"], "--out", str(out))
    assert got.code == 4                                 # one request was refused
    s = got.summary
    assert s["batches"][0]["images_saved"] == 2 and s["batches"][0]["failed"] == 1
    ok = [r for r in s["results"] if r["status"] == "ok"]
    assert sorted(r["prompt"] for r in ok) == ["a blue chair", "a red chair"]
    assert len(list(out.glob("*.png"))) == 2
    assert all(abs(r["cost_usd"] - 0.017) < 0.002 for r in ok)      # half of $0.034
    chairs = [m for m in cli.history_sidecars() if "chair" in m["prompt"]]
    assert {m["batch"]["name"] for m in chairs} == {b["name"]} and len(chairs) == 3
    again = cli.cli("batch", "fetch", b["name"], "--out", str(cli.work / "again"))
    assert len(list((cli.work / "again").glob("*.png"))) == 2     # exported again, not saved twice
    assert len([m for m in cli.history_sidecars() if "chair" in m["prompt"]]) == 3
    assert again.summary["batches"][0]["images_saved"] == 2


def test_batch_cancel(cli, fake):
    fake.batch_running_s = None
    b = cli.cli("batch", "submit", "--prompt", "a stone arch", "--variations", "3").summary["batch"]
    fake.advance_batch(b["name"], done=1)
    run = cli.cli("batch", "cancel", b["name"])
    assert run.code == 0 and run.summary["batch"]["state"] == "CANCELLED"
    got = cli.cli("batch", "fetch", b["name"]).summary
    assert got["batches"][0]["images_saved"] == 1 and got["batches"][0]["not_done"] == 2
    assert json.dumps(got).count("a stone arch") >= 1

