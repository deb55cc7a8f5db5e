"""core/wire.py: request -> API and API -> result as plain functions, without a server
(what a batch submitter and the client share)."""
from __future__ import annotations

import base64

import pytest
from conftest import png
from google.genai import types

from nanobanana_addon.core import errors, wire
from nanobanana_addon.core.request import GenerationRequest, InputImage


def test_user_turn_labels_the_image_to_edit_and_each_reference():
    req = GenerationRequest(model="gemini-nano-banana-2.1", prompt="moss in the cracks", seamless=True,
                            images=[InputImage(b"e", "image/png", "edit", "wall"),
                                    InputImage(b"r", "image/jpeg", "reference", "moss.jpg")])
    texts = [p.text for p in wire.user_turn(req).parts if p.text]
    assert texts == [f"moss in the cracks\n\n{wire.SEAMLESS}", "Image to edit:", "Reference image 1 (moss.jpg):"]


@pytest.mark.parametrize("model, size, level, want_size, want_level", [
    ("gemini-3.1-flash-lite-image", "4K", "HIGH", None, "HIGH"),     # 1K only: no size sent
    ("gemini-3-pro-image", "4K", "HIGH", "4K", None),                 # no thinking level taken
    ("gemini-nano-banana-2.1", "2K", "MINIMAL", "2K", "MINIMAL"),
    ("gemini-nano-banana-2.1", "2K", "XHIGH", "2K", None),            # not a level it maps
])
def test_config_holds_only_what_the_model_takes(model, size, level, want_size, want_level):
    cfg = wire.to_config(GenerationRequest(model=model, prompt="x", image_size=size, aspect_ratio="1:1",
                                           thinking_level=level))
    assert cfg.image_config.image_size == want_size and cfg.image_config.aspect_ratio == "1:1"
    got_level = cfg.thinking_config.thinking_level.value if cfg.thinking_config else None
    assert got_level == want_level and cfg.temperature is None and cfg.top_p is None


def _response(parts, finish="STOP", **extra):
    return types.GenerateContentResponse.model_validate({
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish}],
        "usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 1120}, **extra})


def test_response_becomes_images_usage_cost_and_a_ratio_warning():
    data = base64.b64encode(png(64, 64)).decode()
    res = wire.from_response(_response([{"text": "draft", "thought": True},
                                        {"inlineData": {"mimeType": "image/png", "data": data}},
                                        {"text": "Here it is."}]),
                             GenerationRequest(model="gemini-nano-banana-2.1", prompt="x",
                                               aspect_ratio="16:9", image_size="1K"))
    assert [(i.width, i.height) for i in res.images] == [(64, 64)] and res.text == "Here it is."
    assert res.usage.prompt_tokens == 300 and res.cost_usd == pytest.approx(0.034 + 300 * 0.5e-6, abs=1e-4)
    assert res.warnings and "16:9" in res.warnings[0]


def test_refusals_and_blocks_become_typed_errors_with_geminis_words():
    req = GenerationRequest(model="gemini-nano-banana-2.1", prompt="x")
    with pytest.raises(errors.ImageRefused, match="I can't draw that"):
        wire.from_response(_response([{"text": "I can't draw that."}], finish="IMAGE_SAFETY"), req)
    with pytest.raises(errors.TextOnly):
        wire.from_response(_response([{"text": "Which style?"}]), req)
    blocked = types.GenerateContentResponse.model_validate({"promptFeedback": {"blockReason": "SAFETY"}})
    with pytest.raises(errors.PromptBlocked):
        wire.from_response(blocked, req)
