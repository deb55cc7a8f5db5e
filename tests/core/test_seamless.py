"""core/seamless.py (the pipeline hook that makes Seamless results tile) and
core/material_maps.py (the PBR job), on plain bytes: no server, no Blender."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from texture_samples import stone, with_lighting

from nanobanana_addon.core import errors, material_maps, pixels, seamless, tiling
from nanobanana_addon.core.request import (
    GenerationRequest,
    GenerationResult,
    InputImage,
    JobKind,
    OutputImage,
)

SIZE = 128


def _result(arr: np.ndarray, cost: float = 0.04) -> GenerationResult:
    return GenerationResult("m", [OutputImage(pixels.encode_png(arr), "image/png", arr.shape[1], arr.shape[0])],
                            cost_usd=cost)


class _Entry:
    def __init__(self, i: str):
        self.id = i


def _request(mode: str) -> GenerationRequest:
    return GenerationRequest("m", "stone", seamless=True, seamless_fix=mode)


def _run(raw: np.ndarray, mode: str, answer: np.ndarray | None = None):
    sent: list[GenerationRequest] = []
    recorded: list[dict] = []

    def generate(req):
        sent.append(req)
        return _result(answer if answer is not None else raw, cost=0.05)

    def record(res, i, extra):
        recorded.append(extra)
        return _Entry("fixed")

    out, entries, notes = seamless.ensure(_result(raw), [_Entry("raw")], _request(mode), generate, record)
    return out, entries, notes, sent, recorded


def test_a_tiling_answer_is_kept_as_it_came():
    raw = stone(SIZE, SIZE, seed=1)
    out, entries, notes, sent, recorded = _run(raw, "MODEL")
    assert np.array_equal(pixels.decode_image(out.images[0].data), raw)
    assert entries[0].id == "raw" and sent == [] and recorded == []
    assert notes[0].startswith("Tiles: seams")


def test_local_fix_tiles_keeps_the_centre_and_records_the_second_pass():
    raw = with_lighting(stone(SIZE, SIZE, seed=2, tiles=False))
    assert not tiling.tileability(raw).tiles
    out, entries, notes, sent, recorded = _run(raw, "LOCAL")
    fixed = pixels.decode_image(out.images[0].data)
    assert tiling.tileability(fixed).tiles and sent == []
    b = tiling.default_band(SIZE, SIZE)
    assert np.array_equal(fixed[b:-b, b:-b], raw[b:-b, b:-b])
    assert entries[0].id == "fixed" and recorded[0]["seamless_fix"] == "LOCAL"
    assert recorded[0]["raw_entry"] == "raw" and recorded[0]["tileability_before"] > recorded[0]["tileability_after"]
    assert out.cost_usd == pytest.approx(0.04) and "local cross-blend" in notes[0]


def test_model_fix_sends_the_cross_once_and_pastes_back_only_the_band():
    raw = with_lighting(stone(SIZE, SIZE, seed=3, tiles=False))
    answer = stone(SIZE, SIZE, seed=9)           # the "model": any texture continuous across its middle
    out, entries, notes, sent, recorded = _run(raw, "MODEL", answer)
    assert len(sent) == 1
    req = sent[0]
    assert req.instruction == tiling.REPAIR_PROMPT and not req.seamless and req.history == []
    assert [i.role for i in req.images] == ["edit", "reference"]
    shifted = pixels.decode_image(req.images[0].data)
    assert np.abs(shifted.astype(int) - tiling.half_offset(raw)).mean() < 2      # JPEG q95 upload
    mask = pixels.decode_image(req.images[1].data)
    assert mask[SIZE // 2, 3] == 255 and mask[3, 3] == 0          # white cross through the middle
    fixed = pixels.decode_image(out.images[0].data)
    assert tiling.tileability(fixed).tiles
    b = seamless.repair_band(SIZE, SIZE)
    assert np.array_equal(fixed[b:-b, b:-b], raw[b:-b, b:-b])    # the model's own outside the band
    assert recorded[0]["seamless_fix"] == "MODEL" and recorded[0]["fix_cost_usd"] == pytest.approx(0.05)
    assert out.cost_usd == pytest.approx(0.09) and "model seam repair" in notes[0]


def test_a_repair_that_changes_nothing_falls_back_to_the_local_blend():
    raw = with_lighting(stone(SIZE, SIZE, seed=4, tiles=False))
    out, _e, notes, sent, recorded = _run(raw, "MODEL", tiling.half_offset(raw))
    assert len(sent) == 1 and recorded[0]["seamless_fix"] == "MODEL+LOCAL"
    assert tiling.tileability(pixels.decode_image(out.images[0].data)).tiles


def test_a_failed_repair_request_blends_locally_and_says_so():
    raw = with_lighting(stone(SIZE, SIZE, seed=5, tiles=False))

    def generate(req):
        raise errors.ServerBusy("busy")

    out, entries, notes = seamless.ensure(_result(raw), [None], _request("MODEL"), generate,
                                          lambda res, i, extra: _Entry(extra["seamless_fix"]))
    assert entries[0].id == "LOCAL" and any("seam repair request failed" in w for w in out.warnings)
    assert tiling.tileability(pixels.decode_image(out.images[0].data)).tiles


def test_pbr_job_from_stored_bytes_and_from_blender_pixels_agree():
    albedo = stone(64, 64, seed=6)
    spec = material_maps.PbrSpec(InputImage(pixels.encode_png(albedo), "image/png", "edit"), "stone", ao=True)
    outcome = material_maps.run(spec, threading.Event())
    assert outcome.request.kind == JobKind.PBR_MAPS and outcome.entries == [None] * 4
    maps = [pixels.decode_image(i.data) for i in outcome.results[0].images]
    assert [m.shape[:2] for m in maps] == [(64, 64)] * 4 and "tileable like the source" in outcome.notes[0]
    bottom_up = np.concatenate([albedo / 255.0, np.ones((64, 64, 1))], axis=2)[::-1].astype(np.float32)
    spec2 = material_maps.PbrSpec(InputImage(b"", "image/png", "edit", pixels=bottom_up), "stone", ao=True)
    maps2 = [pixels.decode_image(i.data) for i in material_maps.run(spec2, threading.Event()).results[0].images]
    assert np.abs(maps[1].astype(int) - maps2[1].astype(int)).max() <= 1      # same normal map, top row first
