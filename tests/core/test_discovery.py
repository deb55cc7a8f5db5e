"""Live model discovery and today's request shape, through google-genai against the fake:
which models the menu offers, the once-a-day cache, quiet fallbacks, the thinking level
and the returned-ratio check."""
from __future__ import annotations

import json

from conftest import KEY
from fake_gemini import FakeGemini
from fake_gemini import responses as R
from fake_gemini.validate import get

from nanobanana_addon.core import discovery, models
from nanobanana_addon.core.client import ClientConfig
from nanobanana_addon.core.request import GenerationRequest


def config(fake) -> ClientConfig:
    return ClientConfig(api_key=KEY, base_url=fake.url, timeout_s=10.0, attempts=1)


def list_calls(fake) -> int:
    return sum(1 for r in fake.requests if r.action == "list")


def test_lists_the_image_models_of_the_key_known_first_then_new(tmp_path):
    with FakeGemini(api_key=KEY, live=["gemini-3-pro-image", "gemini-nano-banana-2.1",
                                       "gemini-4-flash-image", "gemini-9-text"]) as fake:
        fake.list_max_page_size = 2      # several pages: the SDK pager must follow them
        live = discovery.refresh(config(fake), tmp_path / "models.json", "fp")
    assert [m.id for m in live.models] == ["gemini-nano-banana-2.1", "gemini-3-pro-image",
                                           "gemini-4-flash-image"]
    assert live.known and live.offers("gemini-9-text") and live.offers("gemini-2.5-flash-image") is False
    assert list_calls(fake) == 2


def test_cached_for_a_day_per_key_and_never_stores_the_key(tmp_path):
    path = tmp_path / "models.json"
    with FakeGemini(api_key=KEY) as fake:
        fp = discovery.fingerprint(KEY, fake.url)
        live = discovery.refresh(config(fake), path, fp, now=1000.0)
        assert [m.id for m in live.models] == [m.id for m in models.LIVE]
    text = path.read_text()
    assert KEY not in text and json.loads(text)["fingerprint"] == fp
    again = discovery.load(path, fp)
    assert again.ids() == live.ids() and not again.due(now=1000.0 + 3600)
    assert again.due(now=1000.0 + discovery.MAX_AGE_S)
    assert not discovery.load(path, discovery.fingerprint("another-key", fake.url)).known


def test_a_failed_listing_keeps_the_catalog_and_waits_before_asking_again(tmp_path):
    path = tmp_path / "models.json"
    with FakeGemini(api_key=KEY) as fake:
        bad = ClientConfig(api_key="wrong-key", base_url=fake.url, timeout_s=5.0, attempts=1)
        live = discovery.refresh(bad, path, "fp", now=50.0)
    assert not live.known and live.offers(models.DEFAULT_MODEL) is None
    assert not discovery.load(path, "fp").due(now=60.0)          # no hammering after a failure
    assert discovery.load(path, "fp").due(now=50.0 + discovery.RETRY_AFTER_FAILURE_S)
    assert discovery.load(tmp_path / "missing.json", "fp").models == []
    (tmp_path / "corrupt.json").write_text("{not json")
    assert not discovery.load(tmp_path / "corrupt.json", "fp").known


def test_thinking_level_is_sent_only_to_models_that_take_one(fake, make_client):
    client = make_client()
    client.generate(GenerationRequest(model="gemini-nano-banana-2.1", prompt="x", thinking_level="HIGH"))
    client.generate(GenerationRequest(model="gemini-3-pro-image", prompt="x", thinking_level="HIGH"))
    nb21, pro = fake.generate_requests
    # google-genai writes snake_case keys; Google's parser (and the fake's `get`) takes both.
    assert get(get(nb21.body["generationConfig"], "thinkingConfig"), "thinkingLevel") == "HIGH"
    assert get(pro.body["generationConfig"], "thinkingConfig") is None
    for sent in (nb21, pro):
        assert not {"temperature", "topP", "topK"} & set(sent.body["generationConfig"])


def test_a_rewritten_aspect_ratio_is_reported(fake, make_client):
    fake.script(R.image(width=64, height=64), R.image())
    client = make_client()
    squared = client.generate(GenerationRequest(model="gemini-nano-banana-2.1", prompt="x", aspect_ratio="16:9"))
    honest = client.generate(GenerationRequest(model="gemini-nano-banana-2.1", prompt="x", aspect_ratio="16:9"))
    assert squared.warnings and "16:9" in squared.warnings[0] and "64×64" in squared.warnings[0]
    assert honest.warnings == []
