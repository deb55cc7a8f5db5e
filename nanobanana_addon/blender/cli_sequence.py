"""`blender -c nanobanana edit --sequence PATTERN ...`: a frame sequence from the command line.

The same code as the Image Editor's Edit Sequence (sequence_ops.build -> pump.submit ->
EditFrames on the worker -> numbered files -> one image sequence), waited for like any
background operator; progress per frame on stderr. With --batch, frame 1 is sent live and
frames 2..N (each with frame 1's answer as a reference) go as one Gemini batch at half
price; with --wait their answers are fetched into history and written as numbered files.
Loaded by cli.py when the option is used.
"""
from __future__ import annotations

import os
import time
from typing import Any

import bpy

from ..core import errors, models
from . import cli, pump, runtime, sequence_ops


def run(args) -> dict:
    prompt = cli.read_prompts(args)[0]
    if args.variations and args.variations > 1:
        raise errors.sequence_variations()
    sequence_ops.find(bpy.context, args.sequence, args.frames or "")   # bad frames: exit 2 first
    cli.check_ready()
    cli.open_blend(args.blend)
    cli.apply_settings(args, prompt)
    ctx = bpy.context
    request, target = sequence_ops.build(ctx, filepath=args.sequence, frames=args.frames or "",
                                         output_dir=args.out or "")
    plan = target.plan
    assert plan is not None
    if args.batch:
        return _as_batch(args, request, target)
    cli.progress(f"{plan.count} frames of {plan.frames[0].source} sent to "
                 f"{models.label_of(request.model)}: frame {plan.first} first, then the others "
                 "with its answer as a reference")
    job = pump.submit(ctx, request, target)
    shown = ""
    while True:
        done = job.done_event.wait(0.25)
        state = target.out.get("run")
        if state is not None and state.stage != shown:   # the last count too, however fast
            shown = state.stage
            cli.progress(shown)
        if done:
            break
    level, text = pump.wait_and_apply(job)
    cli.progress(text)
    state = target.out.get("run")
    err = job.error
    if err is None and level == "ERROR":
        err = errors.NanoBananaError(text)
    frames = []
    for f in plan.frames:
        outcome = state.outcomes.get(f.number) if state else None
        failure = state.failures.get(f.number) if state else None
        entry = outcome.entries[0] if outcome is not None and outcome.entries else None
        frames.append({"frame": f.number, "source": f.source,
                       "file": state.written.get(f.number) if state else None,
                       "history_id": entry.id if entry is not None else None,
                       "status": "ok" if outcome is not None else "failed",
                       "error": None if failure is None else {"kind": failure.kind,
                                                              "message": str(failure)}})
    codes = [cli.exit_code(err)] + [cli.exit_code(v) for v in (state.failures.values() if state else ())]
    code = cli.worst(codes)
    cost = sum(r.cost_usd or 0.0 for o in (state.outcomes.values() if state else ()) for r in o.results)
    saved = cli.save_blend(args.blend) if args.blend and state and state.written else None
    return {"ok": code == cli.EXIT_OK, "exit_code": code, "message": text,
            "error": None if err is None else {"kind": getattr(err, "kind", "error"), "message": str(err)},
            "model": request.model, "prompt": prompt, "pattern": plan.output.display,
            "frames": plan.count, "written": len(state.written) if state else 0,
            "files": [fr["file"] for fr in frames if fr["file"]], "results": frames,
            "image": target.out.get("image"), "cost_usd": round(cost, 4), "blend": saved,
            "seconds": round(job.elapsed, 2)}


def _as_batch(args, request, target) -> dict:
    """Frame 1 live (its answer is the reference), frames 2..N as one batch at half price."""
    from dataclasses import replace

    from ..core import batch, sequence
    from . import batches
    ctx = bpy.context
    plan = target.plan
    first_plan = replace(plan, frames=plan.frames[:1])
    first_target = sequence_ops.EditFrames(plan=first_plan, frame_start=target.frame_start,
                                           frame_offset=target.frame_offset)
    cli.progress(f"frame {plan.first} sent to {models.label_of(request.model)} (live)")
    job = pump.submit(ctx, request, first_target)
    level, text = pump.wait_and_apply(job)
    state = first_target.out.get("run")
    if level == "ERROR" or state is None or not state.outcomes:
        err = job.error or errors.NanoBananaError(text)
        raise err
    single = bpy.data.images.get(first_target.out.get("image") or "")
    if single is not None:          # a one-frame sequence: the whole one is loaded at the end
        bpy.data.images.remove(single)
    first = state.outcomes[plan.first].results[0].images[0]
    reference = sequence.reference_of(first)
    requests = [sequence.frame_request(request, sequence.read_frame(f), reference, k + 2, plan.count)
                for k, f in enumerate(plan.frames[1:])]
    cli.progress(f"frames {plan.frames[1].number}-{plan.last} sent as one batch "
                 f"({len(requests)} requests, {int(models.BATCH_PRICE_FACTOR * 100)} % of the price)")
    record = batches.submit(ctx, requests, wait=True)
    assert record is not None
    st = batches.store(ctx)
    written = {plan.first: plan.frames[0].output}
    while args.wait and not record.fetched:
        record = batch.refresh(pump.client_config(ctx), st, record.name).record
        cli.progress(record.summary())
        if not record.fetched:
            time.sleep(max(0.05, float(args.poll)))
    failures: dict[int, Any] = {}
    if record.fetched:
        hist = runtime.history(ctx)
        for frame, item in zip(plan.frames[1:], record.items, strict=True):
            key = item["key"]
            ids = record.saved.get(key) or []
            entry = hist.get(ids[0]) if ids else None
            if entry is None or entry.image_path is None:
                why = record.failed.get(key) or {"kind": "error", "message": str(errors.batch_item_missing())}
                failures[frame.number] = why
                continue
            data = entry.image_path.read_bytes()
            from ..core.request import OutputImage
            sequence.write_frame(frame.output, OutputImage(data, entry.meta.get("mime_type") or "image/png", 0, 0))
            written[frame.number] = frame.output
        img = sequence_ops.load_sequence(plan, target.frame_start, target.frame_offset)
        img_name = img.name
    else:
        img_name = None
    codes = [cli.exit_code_of_kind(f.get("kind") or "error") for f in failures.values()]
    code = cli.worst(codes)
    saved = cli.save_blend(args.blend) if args.blend and record.fetched else None
    return {"ok": code == cli.EXIT_OK, "exit_code": code, "model": request.model,
            "pattern": plan.output.display, "frames": plan.count, "written": len(written),
            "files": [written[n] for n in sorted(written)], "image": img_name,
            "batch": cli._record_json(record), "failed_frames": failures, "blend": saved,
            "message": (errors.sequence_written(len(written), plan.output.display) if record.fetched
                        else errors.sequence_batch_pending(plan.first, record.id)),
            "cost_usd": round(sum(r.cost_usd or 0.0 for r in state.outcomes[plan.first].results)
                              + (record.cost_usd or 0.0), 4),
            "out": os.path.dirname(plan.frames[0].output)}
