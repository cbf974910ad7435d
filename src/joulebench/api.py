"""``joulebench.run``: measure any variants (the user's callables, model folders) on any task,
save the run, write the report, from Python.

    import joulebench as jb

    @jb.variant(name="cnn-224", family="cnn", batch_size=32)
    def cnn224(batch):
        return model224(batch).argmax(-1)

    if __name__ == "__main__":
        outcome = jb.run([cnn224, cnn160], task=jb.tasks.from_arrays(x, y), meter="auto")
        raise SystemExit(outcome.exit_code)

Each variant runs in its own spawned worker process, which imports it (``module:function``):
put the call to ``run`` under ``if __name__ == "__main__":`` in a script.

``executor="ray"`` (or ``"slurm"``, or an ``ExecutorConfig``) runs the same measurement as one
job per target on a Ray cluster or Slurm (docs/fleet.md) and returns a
:class:`~joulebench.cli.fleet_run.FleetOutcome`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joulebench.errors import UserError
from joulebench.harness.settings import make_settings
from joulebench.harness.variant_run import VariantFailure, VariantRun
from joulebench.results.store import ensure_writable
from joulebench.tasks.base import Task
from joulebench.variants.spec import VariantSpec, sweep
from joulebench.variants.user import WORKER_ENV, as_spec

if TYPE_CHECKING:
    from joulebench.cli.fleet_run import FleetOutcome
    from joulebench.config import ExecutorConfig


def _specs(variants: Sequence[Any]) -> tuple[list[VariantSpec], list[VariantFailure]]:
    """The specs of ``variants``; one that cannot become a spec (a lambda, a function the
    worker cannot import) is a failure, and the others go on."""
    specs: list[VariantSpec] = []
    failures: list[VariantFailure] = []
    for index, item in enumerate(variants):
        try:
            specs.append(as_spec(item))
        except UserError as exc:
            name = getattr(item, "name", None) or getattr(item, "__name__", f"#{index + 1}")
            failures.append(VariantFailure(str(name), str(exc)))
    return specs, failures


@dataclass(frozen=True)
class RunOutcome:
    """What :func:`run` did: the measured variants and failures, and where it saved them."""

    run: VariantRun
    results_path: Path
    report_path: Path
    table: str

    @property
    def exit_code(self) -> int:
        """0 when every variant was measured, 1 when one failed, 130 when Ctrl-C cut it short."""
        return self.run.exit_code


def _executor(
    executor: str | dict[str, Any] | ExecutorConfig | None, address: str | None
) -> ExecutorConfig | None:
    """The fleet's executor settings, or None for a run here."""
    from pydantic import ValidationError

    from joulebench.config import ExecutorConfig

    if executor is None or executor == "local":
        return None
    try:
        if isinstance(executor, str):
            config = ExecutorConfig(kind=executor)  # type: ignore[arg-type]
        elif isinstance(executor, dict):
            config = ExecutorConfig.model_validate(executor)
        else:
            config = executor
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UserError(f"executor {where}: {first['msg']} (kinds: local, ray, slurm)") from None
    if address is not None:
        config = config.model_copy(update={"address": address})
    return None if config.kind == "local" else config


def _run_fleet(
    specs: list[VariantSpec],
    task: Task,
    options: dict[str, Any],
    executor: ExecutorConfig,
    out: Path,
    reports: Path,
    battery: str,
    title: str,
    quiet: bool,
) -> FleetOutcome:
    """``run`` as jobs on Ray or Slurm, through the same record as ``joulebench run``."""
    from joulebench.cli.fleet_run import run_fleet, start_fleet_run
    from joulebench.harness.executors.job import pack_payload

    payload = pack_payload(specs, task, options)
    stem = str(getattr(task, "name", None) or "run").replace("/", "-").replace(" ", "-")
    path, record = start_fleet_run(
        executor, stem, out, reports, title, battery=battery, payload=payload
    )
    return run_fleet(path, record, quiet=quiet)


def run(
    variants: Sequence[Any],
    task: Task,
    *,
    meter: str = "auto",
    battery: str = "phone",
    batch_size: int = 32,
    out: Path | str = "results",
    reports: Path | str = "reports",
    title: str | None = None,
    quiet: bool = False,
    threads: int | None = None,
    device: str = "cpu",
    meter_options: dict[str, Any] | None = None,
    repeat: int = 1,
    batch_sizes: Sequence[int] | None = None,
    executor: str | dict[str, Any] | ExecutorConfig | None = None,
    address: str | None = None,
    **protocol: Any,
) -> RunOutcome | FleetOutcome:
    """Measure ``variants`` on ``task`` with one meter; save the run and write its report.

    ``variants``: functions (``batch -> predictions``), functions marked with
    :func:`joulebench.variant`, or ``VariantSpec`` objects (model folders). ``protocol``:
    the measurement settings (``windows=5``, ``min_window_s``, ``target_ci``, ...);
    ``repeat``: independent runs with fresh worker processes (3 or more give ``compare`` the
    run-to-run spread); ``batch_sizes``: every variant once per size, as rows
    ``<name>@b<size>``. Prints
    progress and the table (unless ``quiet``) and each failed variant as one error line;
    a failed variant never stops the others. Returns a :class:`RunOutcome`.

    ``executor``: ``"local"`` (here, the default), ``"ray"`` or ``"slurm"``, or the settings of
    an experiment file's ``[executor]`` table (a dict or ``ExecutorConfig``: targets, Slurm
    folder and partition, ...); ``address``: the Ray cluster's. A fleet run sends the variants
    and the task to each target's machine (pickled: the variants' code must be importable
    there, as it is on a shared file system), stores each machine's document as it arrives and
    returns a :class:`~joulebench.cli.fleet_run.FleetOutcome`; ``joulebench run --resume`` on
    its record runs the jobs that did not finish.
    """
    from joulebench.cli.pipeline import (
        measure_save_report,
        print_outcome,
        progress_for,
        window_kinds,
    )

    if os.environ.get(WORKER_ENV):
        raise UserError(
            "joulebench.run() was called while a worker imported your script to find a "
            'variant; put the call under `if __name__ == "__main__":`'
        )
    specs, unusable = _specs(variants)
    if batch_sizes is not None:
        sizes = list(batch_sizes)
        if not sizes or any(not isinstance(n, int) or n <= 0 for n in sizes):
            raise UserError(f"batch_sizes {sizes}: give whole numbers > 0, e.g. [1, 4, 8]")
        specs = sweep(specs, sizes)
    if not specs:
        if unusable:
            raise UserError("no variant can be measured: " + "; ".join(f.line for f in unusable))
        raise UserError("no variants to measure: give at least one")
    folder = ensure_writable(Path(out))
    settings = {"windows": 5, **protocol}
    fleet = _executor(executor, address)
    if fleet is not None:
        if repeat != 1:
            raise UserError(f"repeat={repeat} is not supported with the {fleet.kind} executor yet")
        # a bad setting is refused here, not on every machine (max_length is the worker's)
        make_settings(**{k: v for k, v in settings.items() if k != "max_length"})
        options = {"meter": meter, "meter_options": meter_options, "batch_size": batch_size,
                   "threads": threads, "device": device, **settings}  # fmt: skip
        for failure in unusable:  # not sent to any machine
            print(f"joulebench: error: {failure.line}", file=sys.stderr)
        title = title or f"joulebench: {getattr(task, 'name', 'run')}"
        return _run_fleet(specs, task, options, fleet, folder, Path(reports), battery, title,
                          quiet)  # fmt: skip
    kinds = window_kinds(task)
    with progress_for(quiet, len(specs), settings["windows"], repeat, kinds) as events:
        variant_run, path, report, table = measure_save_report(
            specs,
            task,
            out=folder,
            reports=Path(reports),
            battery=battery,
            title=title or f"joulebench: {getattr(task, 'name', 'run')}",
            on_event=events,
            extra={"api": "joulebench.run"},
            build_failures=unusable,
            meter=meter,
            meter_options=meter_options,
            batch_size=batch_size,
            threads=threads,
            device=device,
            repeat=repeat,
            **settings,
        )
    print_outcome(variant_run, table, path, report, quiet=quiet, stages=events)
    return RunOutcome(variant_run, path, report, table)
