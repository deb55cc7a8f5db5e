"""Issue 13's last two commands in the real Blender program (Debian's 4.3, chroot):
`edit --sequence` (numbered files, one image sequence) and `texture FILE.blend --object`,
which needs NumPy: Debian's package has none, so there the command must end with its
own message and exit code 1 instead of a traceback."""
from __future__ import annotations

from fake_gemini.responses import pattern_png


def test_help_lists_the_sequence_and_texture_options(cli):
    run = cli.cli("edit", "--help")
    assert run.code == 0 and "--sequence" in run.stdout and "--frames" in run.stdout
    run = cli.cli("texture", "--help")
    assert run.code == 0
    for opt in ("--object", "--views", "--bake-size", "--save", "--out"):
        assert opt in run.stdout


def test_edit_a_sequence(cli, fake):
    folder = cli.work / "shot"
    folder.mkdir()
    for n in range(1, 5):
        (folder / f"shot_{n:04d}.png").write_bytes(pattern_png(700 + n, 48, 27))
    run = cli.cli("edit", "--sequence", str(folder / "shot_####.png"), "--prompt", "make it snow")
    assert run.code == 0, run.stderr
    s = run.summary
    assert s["written"] == 4 and s["files"] == [str(folder / f"shot_nb_{n:04d}.png") for n in range(1, 5)]
    assert all((folder / f"shot_nb_{n:04d}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in range(1, 5))
    reqs = sorted(fake.generate_requests, key=lambda r: r.number)
    assert len(reqs) == 4
    labels = [[p.get("text") for p in r.body["contents"][-1]["parts"]] for r in reqs]
    assert "Reference image 1 (first frame, edited):" not in labels[0]
    assert all("Reference image 1 (first frame, edited):" in ls for ls in labels[1:])
    gap = cli.cli("edit", "--sequence", str(folder / "shot_0001.png"), "--frames", "1-6", "--prompt", "x")
    assert gap.code == 2 and "missing frames 5, 6" in gap.summary["error"]["message"]


def test_texture_says_what_is_missing_or_textures(cli, fake):
    blend = cli.work / "props.blend"
    made = cli.raw("-b", "--factory-startup", "--python-expr",
                   "import bpy; bpy.ops.wm.save_as_mainfile(filepath=%r)" % str(blend))
    assert made.code == 0 and blend.is_file(), made.stderr
    run = cli.cli("texture", str(blend), "--object", "Cube", "--prompt", "old oak", "--views", "2",
                  "--bake-size", "1K", "--save")
    s = run.summary
    probe = cli.raw("-b", "--factory-startup", "--python-expr",
                    "import importlib.util; print('HAS-NUMPY', importlib.util.find_spec('numpy') is not None)")
    assert "HAS-NUMPY" in probe.stdout
    has_numpy = "HAS-NUMPY True" in probe.stdout
    if not has_numpy:
        assert run.code == 1 and s["error"]["kind"] == "numpy_missing", run.stderr
        assert "NumPy" in s["error"]["message"] and "Traceback" not in run.stderr
        assert not fake.generate_requests                     # nothing paid for
    else:
        assert run.code == 0 and s["coverage"] > 0.3 and s["blend"] == str(blend)
    missing = cli.cli("texture", str(blend), "--object", "Nope")
    assert missing.code == (2 if has_numpy else 1)
