"""`blender -c nanobanana <command> ...`: the command line (Blender 4.2's extension CLI).

Nothing is implemented twice: each command sets `scene.nanobanana` from its arguments the
way the panel would, asks `intents.request_from_settings` for the request, submits it with
`pump.submit` to a `targets.WriteFiles` target and waits like any operator in background
mode (`pump.wait_and_apply`). Results land in history first, then in --out and, with
--blend, in that .blend file. Batches go through `core.batch` (the same wire conversion).

Registered in registration.py; this module loads only when the command runs.
stdout gets one JSON summary line; stderr gets progress lines. Exit codes: 0 done,
1 failed, 2 bad arguments, 3 no key or offline, 4 refused by Gemini (see EXIT_*).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bpy

from ..core import errors, models
from ..core.request import JobKind
from . import intents, properties, pump, runtime, targets

if TYPE_CHECKING:
    from ..core.batch import BatchRecord

COMMAND = "nanobanana"
PROG = f"blender -c {COMMAND}"
EXIT_OK, EXIT_FAILED, EXIT_ARGS, EXIT_OFFLINE, EXIT_REFUSED = 0, 1, 2, 3, 4


# ---------------------------------------------------------------- exit codes
OFFLINE_KINDS = {"missing_key", "invalid_key", "permission", "offline", "network"}
REFUSED_KINDS = {"prompt_blocked", "image_refused", "text_only"}
ARGUMENT_KINDS = {"invalid_input", "model_not_found", "bad_arguments"}


def exit_code_of_kind(kind: str | None) -> int:
    """errors.NanoBananaError.kind -> exit code (also for failures read back from disk)."""
    if kind is None:
        return EXIT_OK
    if kind in OFFLINE_KINDS:
        return EXIT_OFFLINE
    if kind in REFUSED_KINDS:
        return EXIT_REFUSED
    if kind in ARGUMENT_KINDS:
        return EXIT_ARGS
    return EXIT_FAILED


def exit_code(err: BaseException | None) -> int:
    if err is None:
        return EXIT_OK
    return exit_code_of_kind(getattr(err, "kind", "error"))


def worst(codes: list[int]) -> int:
    """One exit code for many requests: the most telling failure, 0 if none failed."""
    for code in (EXIT_OFFLINE, EXIT_FAILED, EXIT_REFUSED, EXIT_ARGS):
        if code in codes:
            return code
    return EXIT_OK


def progress(text: str) -> None:
    print(f"nanobanana: {text}", file=sys.stderr, flush=True)


def emit(summary: dict) -> None:
    """The one JSON line on stdout (scripts parse it)."""
    sys.stdout.write(json.dumps(summary, separators=(",", ":"), default=str) + "\n")
    sys.stdout.flush()


def error_summary(command: str, err: BaseException) -> dict:
    code = exit_code(err)
    kind = getattr(err, "kind", "bad_arguments" if code == EXIT_ARGS else "error")
    return {"command": command, "ok": False, "exit_code": code,
            "error": {"kind": kind, "message": str(err)}}


# ---------------------------------------------------------------- arguments
def _ratio(value: str) -> str:
    return value.upper() if value.lower() == "auto" else value


def _add_request_options(p: argparse.ArgumentParser, *, many: bool = True) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompt", help="what to generate, or how to change the input")
    if many:
        src.add_argument("--prompts", metavar="FILE",
                         help="a text file with one prompt per line ('-' reads stdin; blank "
                              "lines and lines starting with # are skipped)")
    p.add_argument("--model", help=f"model id (default: the scene's, else {models.DEFAULT_MODEL})")
    p.add_argument("--ratio", type=_ratio, help="aspect ratio such as 16:9, or auto (the "
                   "scene's render resolution or the input image)")
    p.add_argument("--size", type=str.upper, help="image size: 1K, 2K or 4K (models that take it)")
    p.add_argument("--variations", type=int, choices=range(1, 9), metavar="N",
                   help="independent images per prompt, 1-8 (each is billed)")
    p.add_argument("--thinking", choices=("fast", "best"), help="how much the model thinks first")
    p.add_argument("--seamless", action=argparse.BooleanOptionalAction, default=None,
                   help="ask for a tileable texture (default: the scene's setting)")
    p.add_argument("--reference", action="append", default=[], metavar="IMAGE",
                   help="a reference image file (repeatable; replaces the scene's references)")
    p.add_argument("--out", metavar="DIR", help="write each image into this folder")
    p.add_argument("--blend", metavar="FILE", help="open this .blend (or start a new one), add "
                   "the images to it, packed, and save it")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=PROG, description="Gemini image generation from the command line. Prints one JSON "
        "summary line on stdout and progress on stderr. Exit codes: 0 done, 1 failed, "
        "2 bad arguments, 3 no API key or offline, 4 refused by Gemini.",
        epilog="The API key comes from the add-on preferences, else GEMINI_API_KEY / "
        "GOOGLE_API_KEY. Blender keeps the network off in command-line runs unless "
        "allowed: put --online-mode before -c.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("generate", help="new image(s) from a prompt or a file of prompts",
                       description="Generate new images from --prompt or from --prompts FILE.")
    _add_request_options(p)

    p = sub.add_parser("edit", help="edit an image file (or a numbered sequence) with an instruction",
                       description="Send --input IMAGE with --prompt as an edit instruction, or "
                       "edit every frame of --sequence in one style (frame 1 first, then the "
                       "others with its answer as a reference), written as <stem>_nb_####.png "
                       "next to the originals (or in --out).")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", metavar="IMAGE", help="the image file to edit")
    src.add_argument("--sequence", metavar="PATTERN", help="a numbered image sequence: one of "
                     "its files (shot_0001.png) or a pattern (shot_####.png, shot_%%04d.png)")
    p.add_argument("--frames", metavar="START-END", help="with --sequence: only these frames")
    p.add_argument("--batch", action="store_true", help="with --sequence: frame 1 live, the "
                   "other frames as one Gemini batch at half the price (add --wait to write them)")
    p.add_argument("--wait", action="store_true", help="with --batch: wait for the batch and "
                   "write its frames")
    p.add_argument("--poll", type=float, default=10.0, metavar="S",
                   help="seconds between status checks with --wait (default 10)")
    _add_request_options(p, many=False)

    p = sub.add_parser("texture", help="texture an object of a .blend file and bake it",
                       description="Open FILE.blend, paint --object as --prompt says from "
                       "--views directions (1: from the active camera), bake the result into "
                       "its UV map and wire it into its material. Needs NumPy (bundled with "
                       "Blender's official builds).")
    p.add_argument("blend", metavar="FILE.blend", help="the .blend file to open")
    p.add_argument("--object", required=True, metavar="NAME", help="the mesh object to texture")
    p.add_argument("--prompt", help="how to paint it (default: the prompt saved in the file)")
    p.add_argument("--views", type=int, choices=range(1, 9), metavar="N",
                   help="1: from the active camera; 2-8: views all around (default: the file's)")
    p.add_argument("--bake-size", type=str.upper, choices=("1K", "2K", "4K"),
                   help="texture resolution (default: the file's)")
    p.add_argument("--model", help="model id (default: the file's)")
    p.add_argument("--size", type=str.upper, help="image size asked of the model: 1K, 2K or 4K")
    p.add_argument("--thinking", choices=("fast", "best"), help="how much the model thinks first")
    p.add_argument("--save", action="store_true", help="save FILE.blend with the texture")
    p.add_argument("--out", metavar="FILE.blend", help="save into this .blend instead")
    p.set_defaults(ratio=None, variations=None, seamless=None, reference=[])

    p = sub.add_parser("history", help="list or show saved results",
                       description="The add-on's history of results and failures.")
    hs = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = hs.add_parser("list", help="newest entries first", description="List history entries.")
    q.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    q.add_argument("--search", default="", help="only prompts containing this text")
    q = hs.add_parser("show", help="one entry's details", description="Show one entry.")
    q.add_argument("id", help="the entry id (from history list)")
    q.add_argument("--export", metavar="FILE", help="also copy its image to FILE")

    p = sub.add_parser("batch", help="the Gemini Batch API: half price, results later",
                       description="Send many requests as one Gemini batch (50%% of the "
                       "price, usually done within hours), then fetch the results into history.")
    bs = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = bs.add_parser("submit", help="send prompts as one batch",
                      description="Send --prompt (x --variations) or --prompts FILE as one batch.")
    _add_request_options(q)
    q.add_argument("--input", action="append", default=[], metavar="IMAGE",
                   help="an image file to edit with each prompt (repeatable: one edit request "
                   "per image and prompt, e.g. every frame of a shot)")
    q.add_argument("--wait", action="store_true", help="wait for the batch and fetch it")
    q.add_argument("--poll", type=float, default=10.0, metavar="S",
                   help="seconds between status checks with --wait (default 10)")
    q = bs.add_parser("status", help="the batches sent from here, with their state",
                      description="Ask Gemini for the state of each batch (or of one).")
    q.add_argument("id", nargs="?", help="one batch (name or id); default: all unfinished")
    q.add_argument("--all", action="store_true", help="include finished batches")
    q = bs.add_parser("fetch", help="save a finished batch's images into history",
                      description="Save the results of finished batches into history (and "
                      "--out / --blend). Safe to repeat: saved results are not saved twice.")
    q.add_argument("id", nargs="?", help="one batch (name or id); default: all unfinished")
    q.add_argument("--wait", action="store_true", help="wait until the batch is finished")
    q.add_argument("--poll", type=float, default=10.0, metavar="S",
                   help="seconds between status checks with --wait (default 10)")
    q.add_argument("--out", metavar="DIR", help="also write each image into this folder")
    q.add_argument("--blend", metavar="FILE", help="add the images to this .blend and save it")
    q = bs.add_parser("cancel", help="stop a batch (finished requests are kept)",
                      description="Cancel a batch; results it already finished can be fetched.")
    q.add_argument("id", help="the batch (name or id)")
    return ap


# ---------------------------------------------------------------- entry point
def main(argv: list[str]) -> int:
    """The registered command: argv is everything after `-c nanobanana`."""
    try:
        args = parser().parse_args(list(argv))
    except SystemExit as exc:           # --help (0) or an argparse error (2, printed)
        code = exc.code if isinstance(exc.code, int) else EXIT_ARGS
        if code:
            emit({"command": argv[0] if argv else "", "ok": False, "exit_code": EXIT_ARGS,
                  "error": {"kind": "bad_arguments", "message": "see the usage above (stderr)"}})
        return code
    name = args.command + (f" {args.action}" if getattr(args, "action", None) else "")
    try:
        summary = COMMANDS[args.command](args)
    except errors.NanoBananaError as exc:
        summary = error_summary(name, exc)
    except Exception as exc:  # noqa: BLE001 - a bug still ends in a JSON line and exit 1
        import traceback
        traceback.print_exc()
        summary = error_summary(name, errors.NanoBananaError(
            f"Internal error in Nano Banana ({type(exc).__name__}: {exc}). Please report it."))
    emit({"command": name, **summary})
    return int(summary.get("exit_code", EXIT_FAILED))


# ---------------------------------------------------------------- shared steps
def context():
    return bpy.context


def check_ready() -> None:
    """Online access and a key, before anything is opened or sent (exit 3)."""
    if not bpy.app.online_access:
        raise errors.offline_cli()
    from .operators import readiness
    blocker = readiness(context())
    if blocker is not None:
        raise blocker


def read_prompts(args) -> list[str]:
    if args.prompt is not None:
        if not args.prompt.strip():
            raise errors.no_prompt()
        return [args.prompt.strip()]
    path = args.prompts
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.file_unreadable(path, getattr(exc, "strerror", None) or str(exc)) from None
    prompts = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not prompts:
        raise errors.no_prompts(path)
    return prompts


def open_blend(path: str | None) -> None:
    """Open the target .blend first, so results are written into it (a new file otherwise)."""
    if path and os.path.isfile(path):
        bpy.ops.wm.open_mainfile(filepath=os.path.abspath(path))


def save_blend(path: str | None) -> str | None:
    if not path:
        return None
    path = os.path.abspath(path)
    try:
        result = bpy.ops.wm.save_as_mainfile(filepath=path)
    except RuntimeError as exc:
        raise errors.blend_save_failed(path, str(exc)) from None
    if "FINISHED" not in (result or ()):
        raise errors.blend_save_failed(path, "Blender refused")
    return path


def apply_settings(args, prompt: str):
    """scene.nanobanana from the arguments, as the panel would set it; unset ones keep the
    scene's values. Wrong ratio/size for the model: exit 2 with the valid choices."""
    s = context().scene.nanobanana
    s.prompt_text = None
    s.prompt = prompt
    if args.model:
        properties.set_model(s, args.model.strip())
    if args.thinking:
        s.speed = args.thinking.upper()
    if args.variations:
        s.variations = args.variations
    if args.seamless is not None:
        s.seamless = args.seamless
    for prop, value, what in (("aspect_ratio", args.ratio, "aspect ratio"),
                              ("image_size", args.size, "size")):
        if value:
            try:
                setattr(s, prop, value)
            except TypeError:
                items = properties.ratio_items if prop == "aspect_ratio" else properties.size_items
                raise errors.bad_choice(what, value, [i[0] for i in items(s, None)]) from None
    if args.reference:
        s.references.clear()
    for ref in args.reference:
        if not os.path.isfile(ref):
            raise errors.reference_unreadable(ref, "no such file")
        s.references.add().filepath = os.path.abspath(ref)
    return s


def slug(prompt: str, limit: int = 40) -> str:
    words = "".join(c if c.isalnum() else " " for c in prompt.lower()).split()
    return "-".join(words)[:limit].strip("-") or "image"


def run_request(request, target: targets.Target, label: str) -> dict:
    """Submit one settled request, wait for it like a background operator, describe it."""
    progress(f"{label} sent to {models.label_of(request.model)}")
    job = pump.submit(context(), request, target)
    level, text = pump.wait_and_apply(job)
    outcome = job.result
    entries = list(getattr(outcome, "entries", None) or [])
    written = list(getattr(target, "written", []))
    images = []
    for k, entry in enumerate(entries):
        path = entry.image_path if entry is not None else None
        images.append({"history_id": entry.id if entry else None,
                       "history_image": str(path) if path else None,
                       "file": written[k] if k < len(written) else None,
                       "width": entry.meta.get("width") if entry else None,
                       "height": entry.meta.get("height") if entry else None})
    err = job.error
    if err is None and level == "ERROR":
        err = errors.NanoBananaError(text)
    failures = list(getattr(outcome, "failures", None) or [])
    cost = sum(r.cost_usd or 0.0 for r in getattr(outcome, "results", None) or [])
    # Some variations failed but others came: the run did its job (exit 0, "partial").
    status = "failed" if err is not None else "partial" if failures else "ok"
    code = exit_code(err)
    progress(f"{label} {text}")
    return {"prompt": request.prompt, "model": request.model, "status": status,
            "exit_code": code, "message": text, "images": images, "cost_usd": round(cost, 4),
            "seconds": round(job.elapsed, 2),
            "failures": [{"kind": f.kind, "message": str(f)} for f in failures]}


def finish(command: str, results: list[dict], blend: str | None, **extra) -> dict:
    """The summary; the .blend is saved only when an image went into it."""
    saved = save_blend(blend) if blend and any(r["images"] for r in results) else None
    code = worst([r["exit_code"] for r in results])
    return {"command": command, "ok": code == EXIT_OK, "exit_code": code, "results": results,
            "files": [i["file"] for r in results for i in r["images"] if i["file"]],
            "images": sum(len(r["images"]) for r in results),
            "cost_usd": round(sum(r["cost_usd"] for r in results), 4), "blend": saved, **extra}


# ---------------------------------------------------------------- commands
def cmd_generate(args) -> dict:
    prompts = read_prompts(args)
    check_ready()
    open_blend(args.blend)
    out = os.path.abspath(args.out) if args.out else ""
    results = []
    for n, prompt in enumerate(prompts, 1):
        s = apply_settings(args, prompt)
        r = context().scene.render
        request = intents.request_from_settings(s, JobKind.GENERATE,
                                                size_hint=(r.resolution_x, r.resolution_y))
        stem = slug(prompt) if len(prompts) == 1 else f"{n:03d}_{slug(prompt)}"
        result = run_request(request, targets.WriteFiles(folder=out, stem=stem),
                             f"[{n}/{len(prompts)}]")
        results.append(result)
        if result["exit_code"] == EXIT_OFFLINE:
            break                    # no key / no network: the next ones fail the same way
    return finish("generate", results, args.blend)


def cmd_edit(args) -> dict:
    if args.sequence:
        from . import cli_sequence
        return cli_sequence.run(args)
    if args.frames or args.batch:
        raise errors.only_with_sequence()
    prompt = read_prompts(args)[0]
    image, size = read_edit_input(args.input)
    check_ready()
    open_blend(args.blend)
    s = apply_settings(args, prompt)
    request = intents.request_from_settings(s, JobKind.EDIT_TEXTURE, [image], size)
    stem = f"{Path(args.input).stem}_edited"
    out = os.path.abspath(args.out) if args.out else ""
    result = run_request(request, targets.WriteFiles(folder=out, stem=stem), "[1/1]")
    return finish("edit", [result], args.blend)


def read_edit_input(path: str):
    """An image file to edit -> (InputImage, (width, height)); unreadable: exit 2."""
    from ..core import images
    from ..core.request import InputImage
    from . import capture
    try:
        data = Path(path).read_bytes()
        w, h, _mime = images.probe(data)
    except OSError as exc:
        raise errors.file_unreadable(path, exc.strerror or str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - Pillow cannot read it
        raise errors.file_unreadable(path, f"not an image: {exc}") from None
    return InputImage(data, capture.mime_of(path, ""), "edit", os.path.basename(path)), (w, h)


def _entry_json(entry, full: bool = False) -> dict:
    m = entry.meta
    out = {"id": entry.id, "created": m.get("created"), "kind": m.get("kind"),
           "model": m.get("model"), "prompt": entry.prompt,
           "image": str(entry.image_path) if entry.image_path else None,
           "width": m.get("width"), "height": m.get("height"), "cost_usd": m.get("cost_usd"),
           "error": (m.get("error") or {}).get("message"), "blend_file": m.get("blend_file"),
           "batch": m.get("batch")}
    if full:
        out.update({"settings": m.get("settings"), "text": m.get("text"),
                    "finish_reason": m.get("finish_reason"), "usage": m.get("usage"),
                    "model_version": m.get("model_version"), "elapsed_s": m.get("elapsed_s"),
                    "inputs": [{k: v for k, v in i.items() if k != "thumbnail_png"}
                               for i in m.get("inputs") or [] if isinstance(i, dict)],
                    "sidecar": str(entry.sidecar)})
    return out


def cmd_history(args) -> dict:
    hist = runtime.history(context())
    if args.action == "list":
        entries = hist.entries(search=args.search)
        shown = entries[:max(0, args.limit)]
        progress(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} in {hist.root}")
        return {"ok": True, "exit_code": EXIT_OK, "root": str(hist.root), "total": len(entries),
                "entries": [_entry_json(e) for e in shown]}
    entry = hist.get(args.id)
    if entry is None:
        raise errors.entry_gone()
    summary = {"ok": True, "exit_code": EXIT_OK, "entry": _entry_json(entry, full=True)}
    if args.export:
        if entry.image_path is None:
            raise errors.entry_gone()
        dest = os.path.abspath(args.export)
        Path(dest).write_bytes(entry.image_path.read_bytes())
        summary["exported"] = dest
    return summary




# ---------------------------------------------------------------- batches
def cmd_batch(args) -> dict:
    """`batch submit|status|fetch|cancel`: core.batch through the panel's functions (batches.py)."""
    from ..core import batch
    from . import batches
    ctx = bpy.context
    if args.action == "submit":
        prompts = read_prompts(args)
        edits = [read_edit_input(path) for path in args.input]
        check_ready()
        open_blend(args.blend)
        requests = []
        for prompt in prompts:
            s = apply_settings(args, prompt)
            r = ctx.scene.render
            if not edits:
                requests.append(intents.request_from_settings(s, JobKind.GENERATE,
                                                              size_hint=(r.resolution_x, r.resolution_y)))
            requests += [intents.request_from_settings(s, JobKind.EDIT_TEXTURE, [image], size)
                         for image, size in edits]
        progress(f"sending {sum(max(1, q.variations) for q in requests)} request(s) as one batch")
        record = batches.submit(ctx, requests, wait=True)
        assert record is not None
        progress(runtime.STATE.status.text)
        if not args.wait:
            saved = save_blend(args.blend) if args.blend else None
            return {"ok": True, "exit_code": EXIT_OK, "batch": _record_json(record), "blend": saved}
        one = _fetch_cli(args, record.name, True)
        code = worst([r["exit_code"] for r in one["results"]])
        saved = save_blend(args.blend) if args.blend else None     # after the images are in it
        return {**one, "ok": code == EXIT_OK, "exit_code": code, "blend": saved}
    if args.action == "status":
        try:
            check_ready()
            offline = None
        except errors.NanoBananaError as exc:
            offline = exc          # still list what is known locally
        st = batches.store(ctx)
        names = [args.id] if args.id else [r.name for r in st.load() if args.all or not r.fetched]
        out, failures = [], []
        for name in names:
            rec = st.get(name)
            if rec is None:
                raise errors.batch_unknown(name)
            if not rec.fetched and offline is None:
                try:       # the state only: `fetch` saves the results
                    rec = batch.refresh(pump.client_config(ctx), st, rec.name, save=False).record
                except errors.NanoBananaError as exc:
                    failures.append(exc)
            progress(rec.summary())
            out.append(_record_json(rec))
        failures += [offline] if offline is not None else []
        code = worst([exit_code(f) for f in failures])
        return {"ok": code == EXIT_OK, "exit_code": code, "batches": out,
                "errors": [str(f) for f in failures]}
    if args.action == "cancel":
        check_ready()
        rec = batch.cancel(pump.client_config(ctx), batches.store(ctx), args.id)
        rec = batch.refresh(pump.client_config(ctx), batches.store(ctx), rec.name, save=False).record
        progress(rec.summary())
        return {"ok": True, "exit_code": EXIT_OK, "batch": _record_json(rec)}
    check_ready()
    open_blend(args.blend)
    st = batches.store(ctx)
    names = [args.id] if args.id else [r.name for r in st.load() if not r.fetched]
    if not names:
        return {"ok": True, "exit_code": EXIT_OK, "batches": [], "results": []}
    summary: dict = {"batches": [], "results": []}
    for name in names:
        one = _fetch_cli(args, name, args.wait)
        summary["batches"] += [one["batch"]]
        summary["results"] += one["results"]
    if args.blend:
        summary["blend"] = save_blend(args.blend)
    codes = [r["exit_code"] for r in summary["results"]]
    code = worst(codes)
    return {"ok": code == EXIT_OK, "exit_code": code, **summary}


def _fetch_cli(args, name: str, wait: bool) -> dict:
    """Poll one batch (until it ends when `wait`) and save its results into history; then
    every result of the batch in history goes to --out / the open .blend (so a batch the
    panel already fetched can still be exported)."""
    from ..core import batch
    from . import batches
    ctx = bpy.context
    st = batches.store(ctx)
    rec = st.get(name)
    if rec is None:
        raise errors.batch_unknown(name)
    while not rec.fetched:
        rep = batch.refresh(pump.client_config(ctx), st, rec.name)
        rec = rep.record
        progress(rec.summary())
        if rec.fetched or not wait:
            break
        time.sleep(max(0.05, float(getattr(args, "poll", 10.0))))
    out = os.path.abspath(args.out) if getattr(args, "out", None) else ""
    results: list[dict[str, Any]] = []
    scene = ctx.scene.name if ctx.scene else ""
    for n, outcome in enumerate(batch.saved_outcomes(rec, st) if rec.fetched else []):
        target = targets.WriteFiles(folder=out, stem=f"{rec.id}_{n + 1:03d}_{slug(outcome.request.prompt)}")
        level, text = pump.apply_job(batches.finished_job(outcome, target, runtime.STATE.file_token, scene))
        images = [{"history_id": e.id if e else None,
                   "history_image": str(e.image_path) if e and e.image_path else None,
                   "file": target.written[k] if k < len(target.written) else None}
                  for k, e in enumerate(outcome.entries)]
        ok = level != "ERROR"
        results.append({"prompt": outcome.request.prompt, "status": "ok" if ok else "failed",
                        "exit_code": EXIT_OK if ok else EXIT_FAILED, "message": text,
                        "images": images,
                        "cost_usd": sum(float(e.meta.get("cost_usd") or 0.0) for e in outcome.entries if e)})
    prompts = {it["key"]: it.get("prompt", "") for it in rec.items}
    for key, why in rec.failed.items():          # this fetch's failures and earlier ones
        kind, message = (why.get("kind"), why.get("message")) if isinstance(why, dict) else ("error", str(why))
        results.append({"prompt": prompts.get(key, ""), "key": key, "status": "failed",
                        "exit_code": exit_code_of_kind(kind or "error"), "message": message,
                        "images": [], "cost_usd": 0.0})
    return {"ok": True, "exit_code": EXIT_OK, "batch": _record_json(rec), "results": results}


def _record_json(rec: BatchRecord) -> dict:
    return {"name": rec.name, "display_name": rec.display_name, "model": rec.model,
            "state": rec.state, "ended": rec.ended, "fetched": rec.fetched, "source": rec.source,
            "requests": rec.total, "images_saved": rec.images_saved, "failed": len(rec.failed),
            "not_done": len(rec.missing), "estimate_usd": rec.estimate_usd,
            "cost_usd": rec.cost_usd, "price_factor": models.BATCH_PRICE_FACTOR,
            "message": rec.summary(), "error": rec.error or None}


def cmd_texture(args) -> dict:
    from . import cli_texture
    return cli_texture.run(args)


COMMANDS = {"generate": cmd_generate, "edit": cmd_edit, "history": cmd_history, "batch": cmd_batch,
            "texture": cmd_texture}
