"""Issue 5's acceptance: generate, quit Blender without saving, start it again: the result
and its prompt are in the gallery and go onto an object in one click. Two real Blender
processes share one isolated profile; the fake server runs in this test process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import KEY, built_zip

CHILD = Path(__file__).with_name("restart_child.py")


def _run(*args: str) -> dict:
    proc = subprocess.run([sys.executable, str(CHILD), *args], capture_output=True, text=True,
                          timeout=300, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def test_generation_survives_quitting_unsaved(fake_server):
    fake_server.reset()
    prompt = "restart test: cracked terracotta tiles"
    with tempfile.TemporaryDirectory(prefix="nb-restart-", dir=os.environ["TMPDIR"]) as profile:
        first = _run("generate", profile, built_zip(), fake_server.url, KEY, prompt)
        assert first["result"] == ["FINISHED"]
        (req,) = fake_server.generate_requests
        second = _run("reopen", profile, built_zip(), fake_server.url, KEY, prompt)
    assert prompt in second["labels"]
    assert second["apply"] == ["FINISHED"]
    assert tuple(second["image_size"]) == req.image_size
    # ...and refining it continues the saved conversation, signatures and all.
    assert second["continue"] == ["FINISHED"] and second["refine"] == ["FINISHED"]
    refine = fake_server.generate_requests[-1]
    assert refine.status == 200 and refine.model == "gemini-3-pro-image"
    contents = refine.body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[0]["parts"][0]["text"] == prompt and contents[2]["parts"][0]["text"] == "now at dusk"
    assert any("thoughtSignature" in p for p in contents[1]["parts"])
