"""No retired model id ships anywhere but the catalog's own records of it: a default,
an example or a recall path pointing at a dead id fails here, not at an artist's first click."""
from __future__ import annotations

import re
from pathlib import Path

from nanobanana_addon.core import models

ROOT = Path(__file__).resolve().parents[2]
MODEL_ID = re.compile(r"gemini-[0-9][0-9a-z.\-]*[0-9a-z]|gemini-nano-banana[0-9a-z.\-]*[0-9a-z]")
SHIPPED = [*sorted((ROOT / "nanobanana_addon").rglob("*.py")), ROOT / "blender_manifest.toml",
           ROOT / "README.md", ROOT / "docs" / "ARCHITECTURE.md"]


def test_the_scan_recognises_model_ids():
    assert MODEL_ID.findall('s.model = "gemini-2.5-flash-image"; x = "gemini-nano-banana-2.1"') == [
        "gemini-2.5-flash-image", "gemini-nano-banana-2.1"]


def test_retired_ids_appear_only_in_the_replacements_table():
    allowed = set(models.REPLACEMENTS)
    offenders = []
    for path in SHIPPED:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for mid in MODEL_ID.findall(line):
                if models.is_retired(mid) and (path.name != "models.py" or mid not in allowed):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}: {mid}")
    assert offenders == []


def test_every_live_id_in_the_shipped_files_is_in_the_catalog():
    live = {m.id for m in models.LIVE}
    seen = {mid for p in SHIPPED for mid in MODEL_ID.findall(p.read_text(encoding="utf-8"))}
    assert live <= seen and {m for m in seen if not models.is_retired(m)} <= live
