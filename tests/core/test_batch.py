"""The Gemini Batch API through the real google-genai SDK against the fake: one submission
for many prompts, the same request body as an interactive call, states that move, partial
failures that keep the good images, a restart in the middle, cancel, expiry, the file
variant, and the price recorded at half."""
from __future__ import annotations

import base64
import json
import time

import pytest
from conftest import KEY, png
from fake_gemini import responses as R

from nanobanana_addon.core import batch, errors, models, wire
from nanobanana_addon.core.batch import BatchStore
from nanobanana_addon.core.client import ClientConfig
from nanobanana_addon.core.history import History
from nanobanana_addon.core.request import GenerationRequest, InputImage, JobKind

MODEL = "gemini-nano-banana-2.1"


@pytest.fixture
def config(fake):
    fake.image_scale = 0.1
    return ClientConfig(api_key=KEY, base_url=fake.url, timeout_s=10.0)


@pytest.fixture
def store(tmp_path):
    return BatchStore(tmp_path / "history")


def req(prompt="a mossy brick wall", **kw) -> GenerationRequest:
    kw.setdefault("aspect_ratio", "1:1")
    kw.setdefault("image_size", "1K")
    return GenerationRequest(model=MODEL, prompt=prompt, **kw)


def until_fetched(config, store, name, timeout=10.0):
    deadline, states = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        rep = batch.refresh(config, store, name)
        states.append(rep.record.state)
        if rep.record.fetched:
            return rep, states
        time.sleep(0.05)
    raise AssertionError(f"batch never ended: {states[-5:]}")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def decoded(obj):
    """Request JSON as the API reads it: base64 fields decoded (the SDK's alphabet varies)
    and field names in lowerCamelCase (google-genai sends inlineData.mime_type in snake
    case; Google's proto-JSON parser takes both)."""
    if isinstance(obj, dict):
        return {camel(k): (base64.urlsafe_b64decode(v.replace("+", "-").replace("/", "_") + "=" * (-len(v) % 4))
                           if camel(k) in ("data", "thoughtSignature") else decoded(v))
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [decoded(v) for v in obj]
    return obj


def test_twenty_prompts_go_in_one_submission_and_poll_to_success(fake, config, store):
    fake.batch_pending_s, fake.batch_running_s = 0.15, 0.3
    record = batch.submit(config, [req(f"prop number {i}") for i in range(20)], store)
    creates = [r for r in fake.requests if r.action == "batchGenerateContent"]
    assert len(creates) == 1 and creates[0].headers["x-goog-api-key"] == KEY
    assert creates[0].path.endswith(f"/models/{MODEL}:batchGenerateContent")
    sent = creates[0].body["batch"]["inputConfig"]["requests"]["requests"]
    assert [s["metadata"]["key"] for s in sent] == [f"r{i:04d}" for i in range(1, 21)]
    assert record.state == "PENDING" and record.total == 20 and record.source == "inline"
    assert not fake.generate_requests                       # nothing went interactively
    rep, states = until_fetched(config, store, record.name)
    assert states[0] in ("PENDING", "RUNNING") and "RUNNING" in states and states[-1] == "SUCCEEDED"
    assert rep.record.images_saved == 20 and not rep.record.failed and not rep.record.missing
    entries = History(store.root).entries()
    assert len(entries) == 20 and {e.prompt for e in entries} == {f"prop number {i}" for i in range(20)}
    assert all(e.image_path is not None and e.meta["batch"]["name"] == record.name
               and e.meta["batch"]["state"] == "SUCCEEDED" for e in entries)


def test_batch_request_is_the_interactive_request(fake, config, store, make_client):
    """Same contents + generationConfig as generate_content sends (thinking, ratio, size,
    the labelled input image), inline and in the file variant (wire.to_rest)."""
    r = req("make it rusty", aspect_ratio="16:9", image_size="2K", thinking_level="HIGH",
            images=[InputImage(png(64, 32), "image/png", "edit", "crate")])
    make_client().generate(batch.expand([r])[0])
    interactive = fake.generate_requests[0].body
    batch.submit(config, [r], store)
    inline = fake.requests[-1].body["batch"]["inputConfig"]["requests"]["requests"][0]["request"]
    assert decoded(inline) == decoded(interactive)
    assert decoded(json.loads(json.dumps(wire.to_rest(batch.expand([r])[0])))) == decoded(interactive)


def test_partial_failure_keeps_the_good_images(fake, config, store):
    fake.script(R.image(), R.blocked(), R.image(), R.error(500, "INTERNAL", "the batch worker fell over"),
                R.finish("IMAGE_SAFETY"))
    record = batch.submit(config, [req("a cat", variations=3), req("a dog"), req("a bird")], store)
    rep, _ = until_fetched(config, store, record.name)
    rec = rep.record
    assert rec.state == "SUCCEEDED" and rec.images_saved == 2 and len(rec.failed) == 3
    assert {k: v["kind"] for k, v in rec.failed.items()} == {
        "r0002": "prompt_blocked", "r0004": "error", "r0005": "image_refused"}
    assert "the batch worker fell over" in rec.failed["r0004"]["message"]
    assert len(rep.outcomes) == 2 and len(rep.failures) == 3
    hist = History(store.root)
    good = hist.entries(with_images_only=True)
    bad = [e for e in hist.entries() if e.meta.get("error")]
    assert len(good) == 2 and len(bad) == 3
    assert {e.meta["batch"]["key"] for e in bad} == {"r0002", "r0004", "r0005"}
    assert "2 of 5 image(s) saved, 3 failed" in rec.summary()


def test_price_is_recorded_at_half(fake, config, store):
    assert models.BATCH_PRICE_FACTOR == 0.5
    requests = [req("a", variations=2), req("b")]
    record = batch.submit(config, requests, store)
    full = sum(models.estimate_cost(MODEL, "1K", r.variations, 0) for r in requests)
    assert record.estimate_usd == pytest.approx(full / 2, abs=1e-4)
    rep, _ = until_fetched(config, store, record.name)
    per_image = models.lookup(MODEL).price("1K")
    for e in History(store.root).entries():
        assert e.meta["cost_usd"] == pytest.approx(per_image / 2, abs=1e-3)
        assert e.meta["batch"]["price_factor"] == 0.5
    assert rep.record.cost_usd == pytest.approx(3 * per_image / 2, abs=3e-3)


def test_resume_after_restart_from_batches_json(fake, config, tmp_path):
    fake.batch_running_s = None                      # RUNNING until the test moves it
    record = batch.submit(config, [req(f"frame {i}") for i in range(6)], BatchStore(tmp_path / "h"))
    assert json.loads((tmp_path / "h" / "batches.json").read_text())["batches"][0]["name"] == record.name
    # "Blender quits": nothing in memory survives; a new store reads batches.json.
    assert batch.refresh(config, BatchStore(tmp_path / "h"), record.id).record.state == "RUNNING"
    fake.finish_batch(record.name)
    rep = batch.refresh(config, BatchStore(tmp_path / "h"), record.id)
    assert rep.record.fetched and rep.record.images_saved == 6 and len(rep.outcomes) == 6
    again = batch.refresh(config, BatchStore(tmp_path / "h"), record.name)     # idempotent
    assert not again.outcomes and len(History(tmp_path / "h").entries()) == 6
    gets = [r for r in fake.requests if r.action == "batches.get"]
    assert len(gets) == 2                            # a fetched batch is not asked about again
    assert not (tmp_path / "h" / "batch_inputs").exists() or not any((tmp_path / "h" / "batch_inputs").iterdir())


def test_an_interrupted_fetch_saves_each_result_once(fake, config, store, monkeypatch):
    fake.batch_running_s = None
    record = batch.submit(config, [req(f"p{i}") for i in range(4)], store)
    fake.finish_batch(record.name)
    real = History.record
    calls = {"n": 0}

    def flaky(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt        # Blender killed half-way through the fetch
        return real(self, *a, **kw)
    monkeypatch.setattr(History, "record", flaky)
    with pytest.raises(KeyboardInterrupt):
        batch.refresh(config, store, record.name)
    monkeypatch.setattr(History, "record", real)
    assert len(store.get(record.name).saved) == 2
    rep = batch.refresh(config, store, record.name)
    assert len(rep.outcomes) == 2 and rep.record.images_saved == 4
    assert sorted(e.prompt for e in History(store.root).entries()) == ["p0", "p1", "p2", "p3"]


def test_cancel_stops_it_and_keeps_what_was_done(fake, config, store):
    fake.batch_running_s = None
    record = batch.submit(config, [req(f"p{i}") for i in range(5)], store)
    fake.advance_batch(record.name, done=2)
    batch.cancel(config, store, record.name)
    assert any(r.action == "batches.cancel" and r.path.endswith(f"{record.name}:cancel") for r in fake.requests)
    rep = batch.refresh(config, store, record.name)
    rec = rep.record
    assert rec.state == "CANCELLED" and rec.fetched and rec.images_saved == 2
    assert rec.missing == ["r0003", "r0004", "r0005"] and "cancelled" in rec.summary()
    assert sorted(e.prompt for e in History(store.root).entries()) == ["p0", "p1"]


def test_expired_and_failed_batches_say_so(fake, config, store):
    fake.batch_running_s = None
    expiring = batch.submit(config, [req("a"), req("b"), req("c")], store)
    failing = batch.submit(config, [req("d")], store)
    fake.expire_batch(expiring.name, done=1)
    fake.fail_batch(failing.name)
    reports, failures = batch.refresh_all(config, store)
    assert not failures
    by_name = {r.record.name: r.record for r in reports}
    exp, fail = by_name[expiring.name], by_name[failing.name]
    assert exp.state == "EXPIRED" and exp.images_saved == 1 and exp.missing == ["r0002", "r0003"]
    assert "expired" in exp.summary() and "48 hours" in exp.summary()
    assert fail.state == "FAILED" and fail.images_saved == 0 and fail.missing == ["r0001"]
    assert "failed as a whole" in fail.summary()


def test_large_batches_go_as_a_file_through_the_files_api(fake, config, store, monkeypatch):
    monkeypatch.setattr(batch, "INLINE_LIMIT", 100)       # the real limit is ~20 MB
    fake.script(R.image(), R.blocked())
    record = batch.submit(config, [req("a big one"), req("another")], store)
    assert record.source == "file" and record.input_file.startswith("files/")
    create = [r for r in fake.requests if r.action == "batchGenerateContent"][0]
    assert create.body["batch"]["inputConfig"] == {"fileName": record.input_file}
    uploaded = fake.files[record.input_file.removeprefix("files/")]
    lines = [json.loads(x) for x in uploaded["_data"].decode().splitlines()]
    assert [x["key"] for x in lines] == ["r0001", "r0002"]
    assert lines[0]["request"]["contents"][0]["parts"][0]["text"] == "a big one"
    rep, _ = until_fetched(config, store, record.name)
    assert any(r.action == "files.download" for r in fake.requests)
    assert rep.record.images_saved == 1 and list(rep.record.failed) == ["r0002"]


def test_inline_limit_is_the_servers(fake, config, store, monkeypatch):
    """Under our INLINE_LIMIT the body fits the server's 20 MB inline limit; over it, the
    server refuses, which is why the file variant exists."""
    fake.max_request_bytes = 4000
    with pytest.raises(errors.InputTooLarge):
        batch.submit(config, [req("x" * 5000)], store)
    monkeypatch.setattr(batch, "INLINE_LIMIT", 3000)
    assert batch.submit(config, [req("x" * 5000)], store).source == "file"


def test_unknown_and_vanished_batches(fake, config, store):
    with pytest.raises(errors.InvalidInput, match="No batch"):
        batch.refresh(config, store, "batches/nope")
    record = batch.submit(config, [req()], store)
    fake.batch_service.batches.clear()               # Gemini forgot it
    with pytest.raises(errors.InvalidInput, match="no longer knows"):
        batch.refresh(config, store, record.name)
    assert "no longer knows" in store.get(record.name).error


def test_one_model_per_batch_and_saved_outcomes(fake, config, store):
    with pytest.raises(errors.InvalidInput, match="one model"):
        batch.submit(config, [req(), GenerationRequest(model="gemini-3-pro-image", prompt="x")], store)
    record = batch.submit(config, [req("a", variations=2)], store)
    until_fetched(config, store, record.name)
    outs = batch.saved_outcomes(store.get(record.name), store)
    assert [o.request.prompt for o in outs] == ["a", "a"]
    assert all(o.results[0].images[0].data[:4] == b"\x89PNG" for o in outs)


def _inline_images(request_json: dict) -> list[bytes]:
    parts = [p for c in decoded(request_json)["contents"] for p in c["parts"] if "inlineData" in p]
    return [p["inlineData"]["data"] for p in parts]


def test_edit_requests_go_in_a_batch_with_their_input_images(fake, config, store):
    """Edits (an input image + an instruction) batch like prompts: each request carries
    its image inline, the history entries are edits listing their input, and the image is
    kept once for the batch's lifetime however many requests share it."""
    crate, barrel = png(96, 64, color=(150, 90, 40)), png(64, 64, color=(40, 90, 150))
    edits = [req(f"make it {w}", kind=JobKind.EDIT_TEXTURE, aspect_ratio="3:2",
                 images=[InputImage(crate, "image/png", "edit", "crate.png")]) for w in ("rusty", "mossy")]
    edits.append(req("paint it red", kind=JobKind.EDIT_TEXTURE, variations=2,
                     images=[InputImage(barrel, "image/png", "edit", "barrel.png")]))
    record = batch.submit(config, edits, store)
    assert record.source == "inline" and record.total == 4
    sent = [r for r in fake.requests if r.action == "batchGenerateContent"][0]
    rows = sent.body["batch"]["inputConfig"]["requests"]["requests"]
    sent_crate, sent_barrel = (batch.expand([edits[k]])[0].images[0].data for k in (0, 2))
    assert sent_crate[:2] == b"\xff\xd8"                     # prepared as interactively (JPEG)
    assert [_inline_images(r["request"]) for r in rows] == [[sent_crate], [sent_crate],
                                                              [sent_barrel], [sent_barrel]]
    assert len(list(store.inputs.iterdir())) == 2             # one copy per distinct image
    rep, _ = until_fetched(config, store, record.name)
    assert rep.record.images_saved == 4 and not rep.record.failed
    entries = History(store.root).entries()
    assert len(entries) == 4 and {e.meta["kind"] for e in entries} == {"edit_texture"}
    assert sorted(e.meta["inputs"][0]["name"] for e in entries) == ["barrel.png", "barrel.png",
                                                                     "crate.png", "crate.png"]
    assert all(e.meta["cost_usd"] == pytest.approx(models.lookup(MODEL).price("1K") / 2, abs=2e-3)
               for e in entries)
    assert not any(store.inputs.iterdir())                   # fetched: the copies are gone


def test_edits_over_the_inline_limit_go_as_a_file_with_their_images(fake, config, store, monkeypatch):
    """Many or large input images push a batch over the inline limit: the JSONL file then
    carries each request with its image, and the results come back the same way."""
    frames = [png(128, 72, color=(10 * i, 80, 200 - 10 * i)) for i in range(6)]
    one = len(json.dumps(wire.to_rest(batch.expand(edits := [
        req("the same shot at dusk", kind=JobKind.EDIT_RENDER, aspect_ratio="16:9",
            images=[InputImage(f, "image/png", "edit", f"frame_{i:04d}.png")])
        for i, f in enumerate(frames)])[0])))
    monkeypatch.setattr(batch, "INLINE_LIMIT", 2 * one)      # two fit inline, six do not
    assert batch.submit(config, edits[:2], store).source == "inline"
    record = batch.submit(config, edits, store)
    assert record.source == "file"
    lines = [json.loads(x) for x in fake.files[record.input_file.removeprefix("files/")]["_data"].splitlines()]
    assert [_inline_images(x["request"]) for x in lines] == [[r.images[0].data] for r in batch.expand(edits)]
    assert all("the same shot at dusk" in json.dumps(x["request"]) for x in lines)
    rep, _ = until_fetched(config, store, record.name)
    assert rep.record.images_saved == 6
    by_input = {e.meta["inputs"][0]["name"]: e for e in History(store.root).entries()}
    assert sorted(by_input) == [f"frame_{i:04d}.png" for i in range(6)]
    assert all(e.meta["kind"] == "edit_render" and e.image_path is not None for e in by_input.values())


def test_an_image_shared_by_many_requests_is_prepared_once(monkeypatch):
    """The texture edited with 50 prompts (or one reference for all) is encoded once,
    not once per request; every request still carries it."""
    from nanobanana_addon.core import images
    calls = []
    real = images.prepare_input
    monkeypatch.setattr(images, "prepare_input", lambda data, **kw: calls.append(1) or real(data, **kw))
    texture = InputImage(png(96, 64), "image/png", "edit", "crate.png")
    requests = [req(f"variant {i}", kind=JobKind.EDIT_TEXTURE, images=[texture]) for i in range(50)]
    out = batch.expand(requests)
    assert len(out) == 50 and len(calls) == 1
    assert all(r.images[0].data == out[0].images[0].data and r.images[0].name == "crate.png" for r in out)
