"""Catalog facts and image preparation."""
from __future__ import annotations

import io
import random

import pytest
from conftest import png
from PIL import Image

from nanobanana_addon.core import errors, images, models


def test_catalog_holds_todays_lineup_with_its_facts():
    nb21, pro, lite = (models.lookup(i) for i in
                       ("gemini-nano-banana-2.1", "gemini-3-pro-image", "gemini-3.1-flash-lite-image"))
    assert models.DEFAULT_MODEL == nb21.id and [m.id for m in models.LIVE] == [nb21.id, pro.id, lite.id]
    assert nb21.label == "Nano Banana 2.1" and pro.label == "Nano Banana Pro" and lite.label == "Nano Banana 2 Lite"
    assert pro.aspect_ratios == models.STANDARD_RATIOS and len(pro.aspect_ratios) == 10
    assert nb21.aspect_ratios == lite.aspect_ratios == models.STANDARD_RATIOS + ("1:4", "4:1", "1:8", "8:1")
    assert nb21.image_sizes == ("1K", "2K", "4K") and "512" not in nb21.image_sizes
    assert pro.image_sizes == ("1K", "2K", "4K") and lite.image_sizes == () and lite.sizes == ("1K",)
    assert models.lookup("gemini-3.1-flash-image").image_sizes == ("512", "1K", "2K", "4K")
    assert {m.max_reference_images for m in (nb21, pro, lite)} == {14}
    assert nb21.thinking_levels and lite.thinking_levels and not pro.thinking_levels
    assert pro.price("1K") == pro.price("2K") == 0.134 and pro.price("4K") == 0.24 and not pro.price_estimated
    assert (nb21.price("1K"), nb21.price("2K"), nb21.price("4K")) == (0.034, 0.050, 0.113) and nb21.price_estimated
    assert lite.price(None) == 0.034 and lite.price_estimated
    assert all(not m.retired and m.released for m in models.LIVE)


def test_unknown_ids_get_safe_defaults():
    future = models.lookup("gemini-4-ultra-image")
    assert not future.known and future.image_sizes == () and future.aspect_ratios == models.STANDARD_RATIOS
    assert future.max_reference_images == 3 and not future.thinking_levels and not future.retired
    assert models.estimate_cost("gemini-4-ultra-image", "1K") is None


def test_cost_estimates_follow_size_and_variations():
    assert models.estimate_cost("gemini-3.1-flash-lite-image", None) == pytest.approx(0.034, abs=0.001)
    four_k = models.estimate_cost("gemini-3-pro-image", "4K", variations=2)
    one_k = models.estimate_cost("gemini-3-pro-image", "1K", variations=2)
    assert four_k == pytest.approx(2 * 0.24, abs=0.01) and one_k < four_k
    # A size the model does not take is priced at its only size.
    assert models.estimate_cost("gemini-3.1-flash-lite-image", "4K") == models.estimate_cost(
        "gemini-3.1-flash-lite-image", None)


@pytest.mark.parametrize("retired, successor", [
    ("gemini-2.5-flash-image", "gemini-3.1-flash-lite-image"),
    ("gemini-2.5-flash-image-preview", "gemini-3.1-flash-lite-image"),
    ("gemini-2.0-flash-exp-image-generation", "gemini-3.1-flash-lite-image"),
    ("gemini-3-pro-image-preview", "gemini-3-pro-image"),
    ("gemini-3.1-flash-image-preview", "gemini-nano-banana-2.1"),   # -> GA id, itself retired -> 2.1
    ("gemini-3.1-flash-image", "gemini-nano-banana-2.1"),
])
def test_retired_ids_chain_to_a_live_successor(retired, successor):
    assert models.successor(retired) == successor and not models.is_retired(successor)
    err = errors.from_http(404, "NOT_FOUND", "models/x is not found", None, retired)
    assert isinstance(err, errors.ModelNotFound) and err.suggested_model == successor
    assert models.label_of(successor) in str(err) and retired in str(err)


def test_live_models_have_no_successor_and_a_typo_suggests_the_default():
    assert all(models.successor(m.id) is None for m in models.LIVE)
    err = errors.from_http(404, "NOT_FOUND", "not found", None, "gemini-nano-banana-21")
    assert err.suggested_model == models.DEFAULT_MODEL and "not available" in str(err)


def test_every_pair_of_models_fits_ratio_size_and_references():
    """Switching between any two models never leaves a setting the new model lacks."""
    ids = [m.id for m in models.CATALOG] + ["gemini-4-ultra-image"]
    for a in ids:
        src = models.lookup(a)
        for ratio in ("AUTO", *src.aspect_ratios):
            for size in src.sizes:
                for b in ids:
                    dst = models.lookup(b)
                    f = models.fit(b, ratio, size, src.max_reference_images, "BEST")
                    assert f.aspect_ratio == "AUTO" or f.aspect_ratio in dst.aspect_ratios, (a, b, ratio)
                    assert f.image_size in dst.sizes, (a, b, size)
                    assert f.references <= dst.max_reference_images
                    assert f.thinking == (dst.thinking_levels.get("BEST") if dst.thinking_levels else None)
                    changed = (ratio != f.aspect_ratio, size != f.image_size,
                               f.references != src.max_reference_images)
                    assert len(f.changes) == sum(changed), (a, b, f.changes)


def test_fit_picks_the_nearest_ratio_and_size():
    pro = "gemini-3-pro-image"
    assert models.fit(pro, "8:1", "2K", 0).aspect_ratio == "21:9"
    assert models.fit(pro, "1:8", "2K", 0).aspect_ratio == "9:16"
    f = models.fit("gemini-nano-banana-2.1", "1:1", "512", 0)
    assert f.image_size == "1K" and f.changes == ("size 512 → 1K",)
    assert models.fit("gemini-3.1-flash-lite-image", "16:9", "4K", 20).changes == (
        "size 4K → 1K", "only the first 14 of 20 reference images are sent")


def test_ratio_mismatch_spots_a_rewritten_ratio():
    assert models.ratio_mismatch("16:9", 1024, 1024)
    assert not models.ratio_mismatch("16:9", 1376, 768) and not models.ratio_mismatch("21:9", 1584, 672)
    assert not models.ratio_mismatch(None, 1024, 1024) and not models.ratio_mismatch("AUTO", 10, 1000)


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
