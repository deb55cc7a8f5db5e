"""The fake Gemini in a process of its own, for benchmarks that time Blender's main thread:
in-process, the fake's threads (answering 200 batch requests, encoding PNGs) would hold
the GIL Blender's main thread is being timed on, which a real server never does.

    with FakeProcess(api_key=KEY, latency=0.5, batch_pending_s=0.5) as fake:
        fake.url; fake.set(latency=0.0); fake.count("batchGenerateContent")

Runs itself with the same Python (any venv: the fake is stdlib) and talks JSON over its
stdin/stdout: one command per line, one answer per line.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTABLE = ("latency", "image_scale", "batch_pending_s", "batch_running_s", "max_request_bytes")


class FakeProcess:
    def __init__(self, api_key: str, python: str = sys.executable, **settings) -> None:
        self.proc = subprocess.Popen([python, __file__, api_key, json.dumps(settings)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.url = self._read()["url"]

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the fake Gemini process ended")
        return json.loads(line)

    def _ask(self, **cmd) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def set(self, **settings) -> None:
        self._ask(op="set", settings=settings)

    def count(self, action: str = "") -> int:
        """Requests received (of one action, e.g. generateContent), since the last reset."""
        return int(self._ask(op="count", action=action)["n"])

    def reset(self) -> None:
        self._ask(op="reset")

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def __enter__(self) -> FakeProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(api_key: str, settings: dict) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from fake_gemini import FakeGemini
    fake = FakeGemini(api_key=api_key)

    def apply(values: dict) -> None:
        for k, v in values.items():
            if k not in SETTABLE:
                raise SystemExit(f"fake_process: unknown setting {k}")
            setattr(fake, k, v)
    apply(settings)
    out = sys.stdout
    out.write(json.dumps({"url": fake.url}) + "\n")
    out.flush()
    try:
        for line in sys.stdin:
            cmd = json.loads(line)
            answer: dict = {"ok": True}
            if cmd["op"] == "set":
                apply(cmd["settings"])
            elif cmd["op"] == "count":
                answer["n"] = sum(1 for r in fake.requests if not cmd["action"] or r.action == cmd["action"])
            elif cmd["op"] == "reset":
                fake.reset()
            out.write(json.dumps(answer) + "\n")
            out.flush()
    finally:
        fake.close()


if __name__ == "__main__":
    _serve(sys.argv[1], json.loads(sys.argv[2]))
