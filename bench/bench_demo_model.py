"""The default demo's base model (MiniLM fine-tuned on BBC News) measured by joulebench itself.

1. Tokenisation: the time to tokenise a batch of whole articles vs the same texts cut before
   measuring to their first ``max_length`` tokens' words (and whether the tokens are identical).
2. Overhead: inferences per second in a bare loop in this process (the same prepared batches,
   threads and back-end) vs inside ``run_variants`` (its spawned worker, the meter in the
   parent), for every meter available here. The bare loop runs before and after each meter;
   the ratio divides the worker's median window throughput by their mean, repeated 5 times
   (the median ratio is the figure: one ratio swings about ±10% on a shared VM). Goal: >= 0.99.
3. Time to a trustworthy figure: wall time until energy per inference has a 95% interval of
   +-2%, with Stein's two-stage rule (``target_ci=0.02``: a pilot of 10 windows, then as many
   as it plans; capped at 10 minutes, at 8 s with --quick: CI checks that the rule runs, not
   what it costs) vs a fixed 5 and 10 windows, whose interval is whatever it came out.

The model is ``joulebench demo``'s (600 training articles), ``demo --quick``'s with --quick
(300; CI's quick demo test has just built it); trained once, cached. Prints tables (``--json
FILE`` writes them too); asserts nothing.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from common import parser, write_json
from joulebench.demo import QUICK, STANDARD, DemoPlan, demo_base, demo_task
from joulebench.devices.registry import probe_all
from joulebench.harness.variant_run import default_threads, run_variants
from joulebench.variants.base import encode, prepare
from joulebench.variants.load import load_variant
from joulebench.variants.spec import VariantSpec

BATCH = STANDARD.batch_size
PLAN: DemoPlan = STANDARD
"""The demo tier whose model is measured (``--quick``: QUICK)."""
TARGET = 0.02
REPEATS = 5
"""Overhead repeats (bare, measured, bare each): one ratio swings about ±10% on a shared VM."""


def bare_rate(model: Any, batches: list[list[str]], seconds: float) -> float:
    """Inferences per second of ``model.predict`` over ``batches`` for about ``seconds``."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for batch in batches:
            model.predict(batch)
            done += len(batch)
    return done / (time.perf_counter() - start)


def available_meters() -> list[str]:
    """Every meter that works here; the simulated one is skipped (it reads no hardware)."""
    return [s.name for s in probe_all() if s.available and s.name != "simulated"]


def measured(spec: VariantSpec, meter: str, **settings: Any) -> tuple[Any, float]:
    task = demo_task(PLAN)
    start = time.perf_counter()
    run = run_variants(
        [spec], task, meter=meter, batch_size=BATCH, max_length=PLAN.max_length, **settings
    )
    elapsed_s = time.perf_counter() - start
    if run.failures:
        raise SystemExit(f"bench: the base model failed: {run.failures[0].error}")
    return run.results[0], elapsed_s


def overhead(spec: VariantSpec, meters: list[str], quick: bool) -> list[dict[str, Any]]:
    texts = demo_task(PLAN).split().test.texts
    model = load_variant(spec, threads=default_threads(), max_length=PLAN.max_length)
    # the same prepared batches the worker measures (texts cut to their first tokens' words)
    batches = [prepare(model, list(texts[i : i + BATCH])) for i in range(0, len(texts), BATCH)]
    bare_rate(model, batches[:2], 1.0)  # warm up
    seconds = 2.0 if quick else 20.0
    window_s = 0.5 if quick else 5.0
    print(f"overhead: {spec.name}, batch {BATCH}, {default_threads()} threads, "
          f"{'5 windows of ' + str(window_s) + ' s'}")  # fmt: skip
    print(f"  {'meter':<10} {'repeat':>6} {'bare inf/s':>10} {'measured':>9} {'ratio':>6}")
    rows = []
    for meter in meters:
        for repeat in range(1 if quick else REPEATS):
            before = bare_rate(model, batches, seconds)
            result, _ = measured(spec, meter, windows=5, min_window_s=window_s, seed=repeat)
            after = bare_rate(model, batches, seconds)
            inside = statistics.median(w.items / w.duration_s for w in result.energy.windows)
            bare = (before + after) / 2
            rows.append({"meter": meter, "repeat": repeat, "bare_per_s": bare,
                         "before_per_s": before, "after_per_s": after,
                         "measured_per_s": inside, "ratio": inside / bare})  # fmt: skip
            print(f"  {meter:<10} {repeat + 1:>6} {bare:>10.1f} {inside:>9.1f} "
                  f"{inside / bare:>6.3f}")  # fmt: skip
        ratios = [r["ratio"] for r in rows if r["meter"] == meter]
        print(f"  {meter:<10} median ratio {statistics.median(ratios):.3f} "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f})")  # fmt: skip
    return rows


def tokenisation(spec: VariantSpec) -> dict[str, Any]:
    """Time to tokenise a batch of whole articles vs the same texts cut before measuring."""
    texts = demo_task(PLAN).split().test.texts
    model = load_variant(spec, threads=default_threads(), max_length=PLAN.max_length)
    raw = [list(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
    cut = [prepare(model, b) for b in raw]

    def per_batch_s(batches: list[list[str]]) -> float:
        start = time.perf_counter()
        for batch in batches * 3:
            encode(model.tokenizer, batch, PLAN.max_length, "pt")
        return (time.perf_counter() - start) / (3 * len(batches))

    same = all(
        encode(model.tokenizer, a, PLAN.max_length, "pt")["input_ids"].tolist()
        == encode(model.tokenizer, b, PLAN.max_length, "pt")["input_ids"].tolist()
        for a, b in zip(raw, cut, strict=True)
    )
    whole_s, cut_s = per_batch_s(raw), per_batch_s(cut)
    print(f"tokenisation per batch of {BATCH} at {PLAN.max_length} tokens: whole articles "
          f"{whole_s * 1000:.1f} ms, cut before measuring {cut_s * 1000:.1f} ms "
          f"(tokens identical: {same})")  # fmt: skip
    return {"batch": BATCH, "max_length": PLAN.max_length, "whole_s": whole_s, "cut_s": cut_s,
            "identical_tokens": same}  # fmt: skip


def time_to_interval(spec: VariantSpec, meter: str, quick: bool) -> list[dict[str, Any]]:
    window_s = 0.25 if quick else 2.0
    schemes = {
        "adaptive (target 2%)": {
            "windows": 5,
            "target_ci": TARGET,
            "max_time_s": 8.0 if quick else 600.0,
        },
        "fixed 5 windows": {"windows": 5},
        **({} if quick else {"fixed 10 windows": {"windows": 10}}),
    }
    print(f"time to a +-{TARGET:.0%} interval: {spec.name}, meter {meter}, windows of "
          f"{window_s} s (wall time includes loading the model in its worker)")  # fmt: skip
    print(f"  {'scheme':<22} {'wall s':>7} {'windows':>7} {'+-95%':>7} {'met':>5}")
    rows = []
    for name, settings in schemes.items():
        result, elapsed_s = measured(spec, meter, min_window_s=window_s, seed=0, **settings)
        energy = result.energy_per_inference_j
        met = energy.rel_ci95 <= TARGET
        rows.append({"scheme": name, "wall_s": elapsed_s, "windows": energy.n,
                     "rel_ci95": energy.rel_ci95, "met": met,
                     "energy_per_inference_j": energy.mean})  # fmt: skip
        print(f"  {name:<22} {elapsed_s:>7.1f} {energy.n:>7} {energy.rel_ci95:>7.2%} "
              f"{'yes' if met else 'no':>5}")  # fmt: skip
    return rows


def main() -> None:
    global PLAN
    args = parser(__doc__, "the quick demo's model, shorter windows (for CI)").parse_args()
    PLAN = QUICK if args.quick else STANDARD
    base = demo_base(PLAN, demo_task(PLAN))
    spec = VariantSpec(name="base-fp32", method="base", backend="torch", path=base)
    meters = available_meters()
    results = {
        "model": str(base),
        "demo_tier": PLAN.name,
        "tokenisation": tokenisation(spec),
        "overhead": overhead(spec, meters, args.quick),
        "time_to_interval": {m: time_to_interval(spec, m, args.quick) for m in meters},
    }
    write_json(args.json, "demo_model", results)


if __name__ == "__main__":
    main()
