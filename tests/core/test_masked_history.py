"""Masked results keep their mask: history writes it next to the entry (a grey PNG named
in the sidecar), Refine carries it (same region, composited onto the last result), and
deleting the entry removes it. Real google-genai against the fake Gemini."""
from __future__ import annotations

import json
import threading

import numpy as np
from conftest import KEY

from nanobanana_addon.core import history, masked_edit, masking, pipeline
from nanobanana_addon.core.client import ClientConfig
from nanobanana_addon.core.request import GenerationRequest, InputImage, JobKind

SIZE = 64
MODEL = "gemini-3-pro-image"


def _original() -> np.ndarray:
    ramp = np.linspace(20, 230, SIZE).astype(np.uint8)
    img = np.zeros((SIZE, SIZE, 3), np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = ramp[None, :], ramp[:, None], 77
    return img


def _mask_png() -> bytes:
    m = np.zeros((SIZE, SIZE), np.uint8)
    m[16:48, 8:40] = 255
    return masking.encode_png(m)


def _run(fake, h, request):
    fake.image_scale = SIZE / 1024               # the fake answers at the original's size
    return pipeline.run(request, ClientConfig(api_key=KEY, base_url=fake.url), h, threading.Event())


def _masked_edit(fake, h):
    original = _original()
    req = GenerationRequest(model=MODEL, prompt="add a rust stain", aspect_ratio="1:1",
                            images=[InputImage(masking.encode_png(original), "image/png", "edit", "stone")],
                            kind=JobKind.EDIT_TEXTURE,
                            mask=masked_edit.MaskSpec(png=_mask_png(), feather_px=3, style="OUTLINE"))
    return original, _run(fake, h, req)


def test_the_mask_is_saved_next_to_the_entry_and_named_in_its_sidecar(tmp_path, fake):
    h = history.History(tmp_path)
    _original_px, outcome = _masked_edit(fake, h)
    entry = outcome.entries[0]
    meta = json.loads(entry.sidecar.read_text("utf-8"))
    assert meta["mask"] == {"file": f"{entry.id}.mask.png", "feather_px": 3.0, "style": "OUTLINE"}
    assert entry.mask_path == entry.sidecar.with_name(f"{entry.id}.mask.png")
    saved = masking.decode_image(entry.mask_path.read_bytes())
    assert saved.shape == (SIZE, SIZE) and saved.dtype == np.uint8
    assert saved[16:48, 8:40].min() == 255 and saved.sum() == 255 * 32 * 32        # exactly the mask
    assert entry.mask_path.stat().st_size < 2000                                   # a small file
    again = history.History(tmp_path).get(entry.id)                                # after a restart
    assert again is not None and again.mask_path == entry.mask_path
    h.delete(entry.id)
    assert list(tmp_path.glob("*/*.mask.png")) == []


def test_an_unmasked_result_has_no_mask_and_refine_carries_none(tmp_path, fake):
    h = history.History(tmp_path)
    req = GenerationRequest(model=MODEL, prompt="a wall", aspect_ratio="1:1")
    outcome = _run(fake, h, req)
    assert "mask" not in outcome.entries[0].meta and outcome.entries[0].mask_path is None
    assert masked_edit.carried(outcome.request.mask, outcome.results[0].images[0].data) is None


def test_refine_edits_the_same_region_and_keeps_the_last_result_outside_it(tmp_path, fake):
    h = history.History(tmp_path)
    original, first = _masked_edit(fake, h)
    first_px = masking.decode_image(first.results[0].images[0].data)
    outside = masking.decode_image(_mask_png()) == 0
    assert np.array_equal(first_px[outside], original[outside])
    carried = masked_edit.carried(first.request.mask, first.results[0].images[0].data)
    assert carried is not None and carried.feather_px == 3 and carried.style == "OUTLINE"
    refine = GenerationRequest(model=MODEL, prompt="make it darker", aspect_ratio="1:1",
                               history=list(first.results[0].turns), kind=JobKind.REFINE, mask=carried)
    second = _run(fake, h, refine)
    sent = fake.generate_requests[-1]
    last_turn = sent.body["contents"][-1]["parts"]
    images = [p for p in last_turn if "inlineData" in p]
    texts = [p["text"] for p in last_turn if "text" in p]
    assert len(images) == 2 and "make it darker" in texts[0] and "outline" in texts[0]   # result + guide
    out = masking.decode_image(second.results[0].images[0].data)
    assert out.shape == first_px.shape
    assert np.array_equal(out[outside], first_px[outside])            # bit for bit outside the mask
    core = np.zeros((SIZE, SIZE), bool)
    core[24:40, 16:32] = True
    assert np.abs(out[core].astype(int) - first_px[core]).max() > 10   # edited inside
    assert second.entries[0].mask_path is not None                     # the refinement keeps it too
