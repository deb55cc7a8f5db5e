"""Large unsaved textures (issue 16), worker side: the uncompressed TIFF Blender writes for
a big 8-bit image is read reduced over its bytes (no decoded second copy), and a float
pixel copy is box-reduced before any conversion. Real-Blender side:
tests/blender/test_big_paint.py; figures: bench/big_inputs.py --painted."""
from __future__ import annotations

import io
import tracemalloc

import numpy as np
from PIL import Image

from nanobanana_addon.core import images, pixels


def _two_colour(w: int, h: int) -> np.ndarray:
    a = np.zeros((h, w, 4), np.uint8)
    a[...] = (204, 77, 26, 255)
    a[h // 2:, : w // 2] = (26, 51, 230, 255)     # bottom-left, top-down rows
    return a


def _tiff(a: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a, "RGBA").save(buf, "TIFF", **kw)
    return buf.getvalue()


def test_an_uncompressed_tiff_is_read_over_its_own_bytes_and_sent_right():
    a = _two_colour(4096, 2048)
    a[:100, :, 3] = 128                            # some transparency: kept as RGBA
    data = _tiff(a, strip_size=65536)            # several strips, one after another
    with images._open(data) as im:
        shared = images._shared_raw(im, data)
    assert shared is not None and shared.size == (4096, 2048)
    assert np.array_equal(np.asarray(shared), a)
    small = images.read_reduced(data, 1024)
    assert small.size == (1024, 512) and small.mode == "RGBA"
    assert small.getpixel((100, 400))[:3] == (26, 51, 230)
    assert small.getpixel((900, 400)) == (204, 77, 26, 255)
    assert small.getpixel((900, 10))[3] == 128


def test_a_compressed_tiff_is_decoded_as_before():
    a = _two_colour(512, 512)
    data = _tiff(a, compression="tiff_deflate")
    with images._open(data) as im:
        assert images._shared_raw(im, data) is None
    small = images.read_reduced(data, 128)
    assert small.size == (128, 128) and small.getpixel((10, 120)) == (26, 51, 230)


def test_a_big_float_copy_is_reduced_before_it_is_converted():
    h, w = 4100, 4096                              # not a whole number of blocks
    px = np.empty((h, w, 4), np.float32)           # Blender rows: bottom-up
    px[...] = (0.5, 0.5, 0.5, 1.0)                 # linear 0.5 is sRGB 188
    px[: h // 2, : w // 2] = (0.0, 0.0, 1.0, 1.0)  # bottom-left
    tracemalloc.start()
    png = pixels.blender_png(px, linear=True, max_side=1024)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < px.nbytes / 2                    # never a second full-size array
    im = Image.open(io.BytesIO(png)).convert("RGBA")
    assert im.size == (1023, 1024)
    assert im.getpixel((100, 1000)) == (0, 0, 255, 255)
    r, g, b, _ = im.getpixel((900, 100))
    assert abs(r - 188) <= 1 and r == g == b


def test_a_masked_edit_decodes_a_16k_input_past_pillows_guard(monkeypatch):
    """The masked path decodes its original whole (pixels.decode_image): a 16K texture is
    above Pillow's bomb guard (179 MP), which must not refuse it with the wrong advice.
    Pillow's limit is shrunk here so a small image stands in for a 16K one."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)    # 64x64 is "over 2x the limit"
    arr = pixels.decode_image(_tiff(_two_colour(64, 64)))
    assert arr.shape == (64, 64, 4) and tuple(arr[60, 5, :3]) == (26, 51, 230)
    assert Image.MAX_IMAGE_PIXELS == 1000                   # restored for every other user
    monkeypatch.setattr(images, "MAX_INPUT_PIXELS", 1000)   # ours still refuses, saying why
    import pytest

    from nanobanana_addon.core import errors
    with pytest.raises(errors.InvalidInput, match="more than Nano Banana can read"):
        pixels.decode_image(_tiff(_two_colour(64, 64)))
