"""Fake Gemini API server for tests and benchmarks (standard library only).

    from tests.fake_gemini import FakeGemini, responses as R   # or: from fake_gemini import ...

    fake = FakeGemini(api_key="test-key", latency=0.0)   # serving at once, 127.0.0.1:random
    fake.url                                # "http://127.0.0.1:PORT" -> HttpOptions(base_url=...)
    fake.script(R.quota(retry_delay="1s"), R.image())   # each valid generateContent consumes one;
                                            # empty queue -> R.image()
    fake.requests                           # list[Recorded] (.method .path .model .headers .body
                                            #  .raw .status .response .key_in_url .seed ...)
    fake.wait_for_requests(n, timeout=5.0) -> bool
    fake.issued_signatures                  # set of thoughtSignature strings handed out
    fake.latency = 2.0; fake.image_scale = 0.25
    fake.reset(); fake.close()              # close() is idempotent; also a context manager

Extras: FakeGemini(extra_models=[...], image_scale=, max_request_bytes=20 MiB,
strict_images=True, api_key=None -> any key), fake.generate_requests,
fake.pending, fake.default_behaviour, Recorded.answered (Event) / .client /
.error / .seeds / .image_size, R.custom(status, payload), R.location_unsupported(),
R.unregistered_caller(), R.invalid_argument(msg), R.trickle(bytes_per_second, then)
(headers at once, then the body byte by byte: no per-read timeout ever fires). ``sig in fake.issued_signatures``
matches either base64 alphabet (the SDK re-sends signatures URL-safe encoded).

Files: server.py (HTTP server, FakeGemini, Recorded), validate.py (request
checks), responses.py (behaviour builders, expected_pixel), models.py (model
table), pngenc.py (PNG encode/decode, image header sniffing), fixture.py
(pytest fixture ``fake_gemini``).
"""
from . import responses
from .responses import expected_pixel
from .server import FakeGemini, Recorded, SignatureSet

R = responses

__all__ = ["FakeGemini", "Recorded", "SignatureSet", "responses", "R", "expected_pixel"]
