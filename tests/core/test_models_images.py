"""Catalog facts and image preparation."""
from __future__ import annotations

import io
import random

import pytest
from conftest import png
from PIL import Image

from nanobanana_addon.core import errors, images, models


def test_catalog_lookup_and_unknown_defaults():
    pro = models.lookup("gemini-3-pro-image-preview")
    assert pro.label == "Nano Banana Pro" and pro.image_sizes == ("1K", "2K", "4K")
    assert pro.max_reference_images == 14 and pro.thinking
    flash = models.lookup("gemini-2.5-flash-image")
    assert not flash.supports_size("2K") and flash.max_reference_images == 3
    future = models.lookup("gemini-4-ultra-image")
    assert not future.known and future.image_sizes == () and future.aspect_ratios == models.STANDARD_RATIOS
    assert models.estimate_cost("gemini-4-ultra-image", "1K") is None


def test_cost_estimates_follow_size_and_variations():
    assert models.estimate_cost("gemini-2.5-flash-image", None) == pytest.approx(0.039, abs=0.001)
    four_k = models.estimate_cost("gemini-3-pro-image-preview", "4K", variations=2)
    one_k = models.estimate_cost("gemini-3-pro-image-preview", "1K", variations=2)
    assert four_k == pytest.approx(2 * 0.24, abs=0.01) and one_k < four_k
    # A size the model does not take is priced at its only size.
    assert models.estimate_cost("gemini-2.5-flash-image", "4K") == models.estimate_cost("gemini-2.5-flash-image", None)


def test_replacements_for_retired_ids():
    assert models.replacement_for("gemini-2.5-flash-image-preview") == "gemini-2.5-flash-image"
    assert models.replacement_for("gemini-2.5-flash-image") is None


@pytest.mark.parametrize("w, h, want", [(1920, 1080, "16:9"), (1000, 1000, "1:1"), (1080, 1920, "9:16"),
                                        (2000, 900, "21:9"), (1200, 1000, "5:4"), (800, 1200, "2:3")])
def test_nearest_aspect_ratio(w, h, want):
    assert images.nearest_aspect_ratio(w, h, models.STANDARD_RATIOS) == want


def _noise_png(w, h, alpha=False) -> bytes:
    rnd = random.Random(4)
    small = Image.frombytes("RGB", (64, 64), bytes(rnd.randrange(256) for _ in range(64 * 64 * 3)))
    im = small.resize((w, h), Image.Resampling.BICUBIC)
    if alpha:
        im = im.convert("RGBA")
        im.putalpha(Image.linear_gradient("L").resize((w, h)))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def test_prepare_input_downscales_big_opaque_texture_to_jpeg_under_budget():
    raw = _noise_png(4096, 4096)
    data, mime = images.prepare_input(raw)
    assert mime == "image/jpeg" and len(data) <= images.PER_IMAGE_BUDGET < len(raw)
    w, h, _ = images.probe(data)
    assert max(w, h) == 2048 and w == h


def test_prepare_input_keeps_alpha_as_png_and_small_images_unscaled():
    data, mime = images.prepare_input(_noise_png(300, 200, alpha=True))
    assert mime == "image/png"
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "RGBA" and im.size == (300, 200)


def test_prepare_input_rejects_garbage_clearly():
    with pytest.raises(errors.InvalidInput, match="could not be read"):
        images.prepare_input(b"not an image at all")


def test_probe_reads_header_and_total_size_is_checked():
    data = png(50, 20)
    assert images.probe(data) == (50, 20, "image/png")
    with pytest.raises(errors.MalformedResponse):
        images.probe(b"GIF87a-but-not-really")
    with pytest.raises(errors.InputTooLarge):
        images.check_total([15_000_000, 6_000_000])
