"""Measure model variants: each in its own spawned worker, all interleaved under one meter.

For every variant: accuracy (from its own predictions) with its Wilson interval, macro-F1,
latency percentiles from every batch of the energy windows, throughput, peak memory, size on
disk, parameter count, and energy per inference (gross and net, 95% intervals) by the
measurement protocol. Every per-inference figure divides by the examples each window actually
ran. A variant that cannot load, or whose worker dies, is reported as a failure; the others
are kept. ``meter="auto"`` picks the GPU's meter when the variants run on CUDA.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np

from joulebench.devices.estimate import cpu_time_of
from joulebench.errors import MeasurementError, UserError, VariantError
from joulebench.harness.device_sync import is_gpu_device
from joulebench.harness.journal import Journal, JournalState, read_journal
from joulebench.harness.latency import MIN_SAMPLES, Latency, latency_from_windows
from joulebench.harness.repeats import merge_runs
from joulebench.harness.result import Flag, MeasureResult
from joulebench.harness.runner import Event, measure_many
from joulebench.harness.stages import stage_event
from joulebench.harness.stats import Summary
from joulebench.harness.tokens import TokenFigures, token_figures
from joulebench.harness.worker import (
    PHASE_PREFILL,
    TOKENISING,
    GenerationJob,
    Worker,
    WorkerDied,
    WorkerJob,
    WorkerReady,
)
from joulebench.tasks.base import Task
from joulebench.tasks.generation import Generation
from joulebench.tasks.metrics import Accuracy, Scores
from joulebench.variants.spec import VariantSpec


@dataclass(frozen=True)
class VariantResult:
    """Everything measured for one variant. Energy figures are per inference (one example)."""

    spec: VariantSpec
    batch_size: int
    threads: int
    scores: Scores
    latency: Latency
    """Batch and per-inference time percentiles from every batch in the energy windows."""
    throughput_per_s: float
    peak_rss_bytes: int | None
    gpu_peak_bytes: int | None
    model_size_bytes: int | None
    params: int | None
    load_s: float
    details: dict[str, Any]
    energy: MeasureResult
    """Per item = per example (each window divided by the examples it ran)."""
    device: str = "cpu"
    inference_includes: tuple[str, ...] = ()
    """What one timed and measured inference covers (tokenisation, copies, the wait, ...)."""
    max_length: int | None = None
    """Texts were cut to this many tokens (the run's setting; a comparison checks it)."""
    prefill: MeasureResult | None = None
    """A generation variant's prefill windows (one new token per request); ``energy`` then
    holds its full-generation windows, and per item means per request."""
    tokens: TokenFigures | None = None
    """A generation variant's per-token figures (``harness.tokens``)."""

    @property
    def latency_p50_s(self) -> float | None:
        """Median time of a full batch."""
        return self.latency.p50_s

    @property
    def latency_p95_s(self) -> float | None:
        """95th percentile of a full batch's time (None with fewer than 20 batches)."""
        return self.latency.p95_s

    @property
    def latency_p99_s(self) -> float | None:
        """99th percentile of a full batch's time (None with fewer than 100 batches)."""
        return self.latency.p99_s

    @property
    def accuracy(self) -> Accuracy | None:
        """A classifier's accuracy with its Wilson interval (None for other tasks)."""
        return self.scores.accuracy

    @property
    def macro_f1(self) -> float | None:
        """A classifier's macro-F1 (None for other tasks)."""
        return self.scores.macro_f1

    @property
    def energy_per_inference_j(self) -> Summary:
        """Gross energy per inference (per example), with its 95% half-width."""
        return self.energy.energy_per_item_j

    @property
    def net_energy_per_inference_j(self) -> Summary | None:
        """Net energy per inference, or None (see ``energy.net_error``)."""
        return self.energy.net_energy_per_item_j


@dataclass(frozen=True)
class VariantFailure:
    """A variant that could not be measured, and why."""

    name: str
    error: str

    @property
    def line(self) -> str:
        """The failure as one line that names the variant once."""
        if self.error.startswith(f"variant {self.name!r}"):
            return self.error
        return f"variant {self.name!r} failed: {self.error}"


@dataclass
class VariantRun:
    """The outcome of :func:`run_variants`. ``interrupted``: Ctrl-C stopped the windows early;
    the results hold the windows taken until then (each flagged ``interrupted``)."""

    results: list[VariantResult] = field(default_factory=list)
    failures: list[VariantFailure] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        """True when the energy windows were cut short by Ctrl-C."""
        return any(r.energy.interrupted for r in self.results)

    @property
    def exit_code(self) -> int:
        """130 when Ctrl-C cut the windows short, 1 when a variant failed, else 0."""
        if self.interrupted:
            return 130
        return 1 if self.failures else 0


def default_threads() -> int:
    """Threads per variant: the CPUs this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


PREFILL_SUFFIX = " [prefill]"
"""A generation variant's prefill windows are measured under its name with this suffix."""
GENERATE_INCLUDES = (
    "generate() on the prompt's token ids (tokenised before measuring)",
    "greedy decoding of every new token",
    "copy of the new token ids",
)


def inference_includes(
    backend: str, device: str, loader: bool, generate: bool = False
) -> tuple[str, ...]:
    """What one measured inference covers, for the results (docs/protocol.md)."""
    wait = ("wait for the GPU (synchronise)",) if is_gpu_device(device) else ()
    if generate:
        return (*GENERATE_INCLUDES, *wait)
    tokens = "tokenisation (of each text cut, before measuring, to its first max_length tokens)"
    steps = {
        "torch": (tokens, "copy to device", "forward pass", "arg-max", "copy to host"),
        "onnxruntime": (tokens, "forward pass (ONNX Runtime)", "arg-max"),
    }.get(backend, ("the variant's predict(batch)",))
    before = ("loader: run once before measuring, not included",) if loader else ()
    return (*steps, *wait, *before)


def _latency_flag(latency: Latency) -> Flag | None:
    if not latency.missing:
        return None
    needs = " and ".join(f"{p} needs {MIN_SAMPLES[int(p[1:])]}" for p in latency.missing)
    return Flag(
        "few-latency-samples",
        f"{', '.join(latency.missing)} not given: {latency.batch_samples} full batches of "
        f"{latency.batch_size} were timed and {needs}; raise --windows or --min-window-s for "
        "more",
    )


def _start(
    specs: Sequence[VariantSpec],
    job: Callable[[VariantSpec], WorkerJob],
    run: VariantRun,
    emit: Callable[[Event], None],
    score: Callable[[Any], Scores],
) -> dict[str, tuple[Worker, WorkerReady]]:
    """Start workers one after another, so each loads alone (its load time and memory are its
    own); score each one's predictions before any energy is measured (a variant that cannot
    be scored is a failure, and is not measured)."""
    ready: dict[str, tuple[Worker, WorkerReady]] = {}
    for spec in specs:
        emit(Event("load", spec.name, f"loading and scoring ({spec.backend})"))
        started_s = time.perf_counter()
        worker = Worker(job(spec))
        try:
            answer = worker.ready()
            waited_s = time.perf_counter() - started_s
            emit(stage_event(f"start and load {spec.name}", waited_s - answer.scoring_s))
            emit(stage_event(f"score {spec.name}", answer.scoring_s))
            try:
                answer.scores = score(answer.predictions)
            except UserError as exc:
                raise VariantError(
                    f"variant {spec.name!r}: its predictions cannot be scored: {exc}"
                ) from None
            ready[spec.name] = (worker, answer)
        except (VariantError, WorkerDied) as exc:
            worker.close()
            run.failures.append(VariantFailure(spec.name, str(exc)))
            emit(Event("failed", spec.name, str(exc)))
            continue
        emit(Event("ready", spec.name, f"scored in {ready[spec.name][1].load_s:.1f} s load"))
    return ready


def run_variants(
    specs: Sequence[VariantSpec],
    task: Task,
    *,
    meter: str = "auto",
    batch_size: int = 32,
    threads: int | None = None,
    device: str = "cpu",
    max_length: int = 128,
    meter_options: Mapping[str, Any] | None = None,
    on_event: Callable[[Event], None] = lambda event: None,
    repeat: int = 1,
    journal: Journal | None = None,
    resume: JournalState | None = None,
    **settings: Any,
) -> VariantRun:
    """Measure every variant of ``specs`` on ``task``'s held-out split with one meter.

    ``repeat``: measure everything in that many independent runs, one after another, each with
    fresh worker processes (windows interleaved within a run as always); each variant's figures
    are then the mean of its run means with the between-runs interval (``harness.repeats``).
    ``journal``: write every window to it as taken (one run only); ``resume``: a journal to go
    on from (the variants are loaded and scored again; only missing windows are measured).
    """
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise VariantError(f"variant names must be unique, got {names}")
    if repeat < 1:
        raise UserError(f"repeat must be at least 1, got {repeat}")
    if repeat > 1 and (journal is not None or resume is not None):
        raise UserError(
            "a journalled (resumable) run measures one run; use repeat=1, or run without a "
            "journal (--no-journal)"
        )
    threads = threads or default_threads()
    split = task.split()
    run = VariantRun()
    generation = _generation_job(task, names)

    def job(spec: VariantSpec) -> WorkerJob:
        size = spec.batch_size or batch_size
        return WorkerJob(spec, split.test.inputs, size, threads, device, max_length, generation)

    measured: dict[str, list[_RunPart]] = {}
    for index in range(repeat):
        if repeat > 1:
            on_event(Event("run", "", f"run {index + 1} of {repeat} (fresh worker processes)"))
        failed = {f.name for f in run.failures}
        active = [s for s in specs if s.name not in failed]
        if not active:
            break
        live = _start(active, job, run, on_event, lambda p: task.score(p, split.test))
        try:
            energies = _measure(
                live,
                run,
                meter,
                meter_options,
                on_event,
                settings,
                device,
                generation is not None,
                journal,
                resume,
            )
            for name, (worker, ready) in live.items():
                if name in energies:
                    part = _RunPart(
                        worker.job,
                        ready,
                        energies[name],
                        worker.memory(),
                        energies.get(name + PREFILL_SUFFIX),
                    )
                    measured.setdefault(name, []).append(part)
        finally:
            for worker, _ in live.values():
                worker.close()
        if any(part.energy.interrupted for parts in measured.values() for part in parts):
            break  # Ctrl-C cut this run short: the runs after it are not started
    failed = {f.name for f in run.failures}
    for spec in specs:
        parts = measured.get(spec.name)
        if parts and spec.name not in failed:
            run.results.append(_variant_result(parts, threads, device, max_length, repeat))
    return run


@dataclass(frozen=True)
class _RunPart:
    """One variant's share of one run: its worker's job, answer, energy and memory."""

    job: WorkerJob
    ready: WorkerReady
    energy: MeasureResult
    memory: dict[str, Any]
    prefill: MeasureResult | None = None


def _generation_job(task: Task, names: Sequence[str]) -> GenerationJob | None:
    """What each worker must do for a generation task (None for any other task)."""
    if not isinstance(task, Generation):
        return None
    clash = [n for n in names if n.endswith(PREFILL_SUFFIX)]
    if clash:
        raise UserError(
            f"variant name {clash[0]!r} ends with {PREFILL_SUFFIX.strip()!r}, which names a "
            "generation variant's prefill windows; rename it"
        )
    return GenerationJob(
        documents=task.documents,
        prompt_tokens=task.prompt_tokens,
        max_new_tokens=task.max_new_tokens,
        ppl_tokens=task.ppl_tokens,
        texts=task.metric is not None,
        kv_cache=task.kv_cache,
    )


def _variant_result(
    parts: Sequence[_RunPart], threads: int, device: str, max_length: int, repeat: int
) -> VariantResult:
    """One variant's figures from its runs (one run: as measured; several: merged)."""
    first = parts[0]
    size = first.job.batch_size
    energy = merge_runs([p.energy for p in parts])
    generation = first.job.generation
    prefill = tokens = None
    if generation is not None:
        prefills = [p.prefill for p in parts if p.prefill is not None]
        if len(prefills) != len(parts):
            raise MeasurementError(f"variant {first.job.spec.name!r}: prefill windows missing")
        prefill = merge_runs(prefills)
        energy = replace(
            energy,
            flags=(
                *energy.flags,
                *(Flag(f.code, f"prefill windows: {f.message}") for f in prefill.flags),
            ),
        )
        tokens = token_figures(
            energy, prefill, generation.prompt_tokens, generation.max_new_tokens, size
        )
    latency = latency_from_windows(energy.windows, size)
    flags = [f for f in (_latency_flag(latency), _runs_flag(parts, repeat)) if f]
    energy = replace(
        energy,
        threads=first.ready.threads or energy.threads,
        flags=(*energy.flags, *flags),
    )
    throughput = float(np.mean([w.items / w.duration_s for w in energy.windows]))
    peaks = [p.memory["peak_rss_bytes"] for p in parts if p.memory["peak_rss_bytes"] is not None]
    gpu_peaks = [p.memory["gpu_peak_bytes"] for p in parts if p.memory["gpu_peak_bytes"]]
    return VariantResult(
        spec=first.job.spec,
        batch_size=size,
        threads=threads,
        scores=first.ready.scores,
        latency=latency,
        throughput_per_s=throughput,
        peak_rss_bytes=max(peaks) if peaks else None,
        gpu_peak_bytes=max(gpu_peaks) if gpu_peaks else None,
        model_size_bytes=first.ready.size_bytes,
        params=first.ready.params,
        load_s=float(np.median([p.ready.load_s for p in parts])),
        details=first.ready.details,
        energy=energy,
        device=device,
        inference_includes=inference_includes(
            first.ready.backend, device, bool(first.job.spec.loader), generation is not None
        ),
        max_length=(
            max_length if first.ready.backend in TOKENISING and generation is None else None
        ),
        prefill=prefill,
        tokens=tokens,
    )


def _runs_flag(parts: Sequence[_RunPart], repeat: int) -> Flag | None:
    """A flag when the runs gave different answers, or fewer runs than asked were measured."""
    if len(parts) < repeat:
        return Flag(
            "runs-missing",
            f"{len(parts)} of {repeat} runs measured (stopped early); the interval is "
            "between those runs",
        )
    outcomes = [p.ready.scores.outcomes for p in parts]
    first = outcomes[0]
    if first is None:
        return None
    differ = [
        k + 1
        for k, o in enumerate(outcomes)
        if o is None or not np.array_equal(o.correct, first.correct)
    ]
    if differ:
        return Flag(
            "runs-disagree",
            f"run(s) {', '.join(map(str, differ))} got other examples right than run 1 "
            "(non-deterministic inference); accuracy is run 1's",
        )
    return None


def _measure(
    live: dict[str, tuple[Worker, WorkerReady]],
    run: VariantRun,
    meter: str,
    meter_options: Mapping[str, Any] | None,
    on_event: Callable[[Event], None],
    settings: Mapping[str, Any],
    device: str = "cpu",
    prefill: bool = False,
    journal: Journal | None = None,
    resume: JournalState | None = None,
) -> dict[str, MeasureResult]:
    """Interleaved energy windows over the live workers; a worker that dies is dropped.
    ``prefill``: each worker also gets prefill windows (a generation task). With a
    ``journal``, the others keep the windows taken before a worker died (read back from it);
    without one, they are measured again.

    ``auto`` chooses from the variants' device (CUDA: the GPU's meter), not from this
    process, which never starts CUDA itself."""
    while live:
        options = dict(meter_options or {})
        if meter in ("auto", "estimate"):  # the estimate must count the workers' CPU time
            options["cpu_time_s"] = cpu_time_of([w.pid for w, _ in live.values() if w.pid])
        workloads: dict[str, Callable[[int], Any]] = {}
        for name, (worker, _) in live.items():
            workloads[name] = worker.run
            if prefill:
                workloads[name + PREFILL_SUFFIX] = partial(worker.run, phase=PHASE_PREFILL)
        try:
            return measure_many(
                workloads,
                meter,
                meter_options=options,
                on_event=on_event,
                gpu=is_gpu_device(device),
                journal=journal,
                resume=resume,
                **settings,
            )
        except WorkerDied as exc:
            worker, _ = live.pop(exc.variant)
            worker.close()
            run.failures.append(VariantFailure(exc.variant, str(exc)))
            if journal is not None:
                resume = read_journal(journal.path)
                more = "going on with the others' windows from the journal"
            else:
                more = "measuring the others again"
            on_event(Event("dropped", exc.variant, f"{exc}; {more}"))
    raise MeasurementError(
        "no variant could be measured: " + "; ".join(f"{f.name}: {f.error}" for f in run.failures)
    )
