"""Material prompt presets (core/presets.py)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nanobanana_addon.core import presets


def test_the_catalogue_covers_common_materials_with_unique_ids():
    ids = [p.id for p in presets.PRESETS]
    assert len(ids) == len(set(ids))
    assert {"stone", "brick", "wood", "metal", "fabric", "ground", "tiles", "plaster", "bark"} <= set(ids)
    assert all(p.label and p.subject and p.scale for p in presets.PRESETS)


@pytest.mark.parametrize("preset", presets.PRESETS, ids=lambda p: p.id)
def test_every_preset_asks_for_a_flat_lit_straight_on_albedo_at_its_scale(preset):
    prompt = presets.build_prompt(preset.id, "")
    for cue in (preset.subject, preset.scale, "albedo", "straight on", "no perspective",
                "even", "no cast shadows", "tileable"):
        assert cue in prompt, cue


def test_the_artists_words_lead_and_are_tidied():
    prompt = presets.build_prompt("brick", "  old red   bricks, moss in the joints  ")
    assert prompt.startswith("old red bricks, moss in the joints. ")
    assert "laid bricks with mortar joints" in prompt


def test_seamless_wording_can_be_left_to_the_request():
    assert presets.SEAMLESS in presets.build_prompt("wood", "oak")
    without = presets.build_prompt("wood", "oak", seamless=False)
    assert presets.SEAMLESS not in without and "tileable" not in without


def test_unknown_preset_names_the_known_ones():
    with pytest.raises(KeyError, match="stone"):
        presets.build_prompt("lava", "glowing")


def test_importing_presets_loads_neither_numpy_nor_pillow():
    code = ("import sys, nanobanana_addon.core.presets;"
            "print(sorted(m for m in ('numpy', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
