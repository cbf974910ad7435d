"""A methods section written from run documents alone (``report --format methods``).

Every sentence states something a run document records: the machine, the meter and its scope,
the protocol the runner followed (warm-up, window calibration, rounds, order seed, idle
windows, stopping rule), how each interval was made, the task, how each variant was built
(its build record), the battery assumption and every flag the run raised. Nothing is
written that the document does not show: a fixed-window run does not mention Stein's rule, a
run without idle windows says no net figures, an estimated meter is called an estimate in the
first sentence about energy.

The text is built once as :class:`~joulebench.reports.methods_render.Section` paragraphs
holding citation markers (``[[cite:key]]``) and rendered by ``methods_render`` as Markdown or
LaTeX, with :func:`joulebench.reports.citations.bibtex` for the ``.bib``; each variant's build
is put in words by ``variant_text``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joulebench.batteries import Battery
from joulebench.calibration import Calibration
from joulebench.harness.contamination import CONTAMINATED
from joulebench.reports import methods_generation as generation
from joulebench.reports.citations import bibtex
from joulebench.reports.methods_generation import is_generation
from joulebench.reports.methods_render import Section, cited_keys, render_latex, render_markdown
from joulebench.reports.prose import count, join, num, percent, plural
from joulebench.reports.variant_text import variant_lines

SCOPE_TEXT = {
    "package": "the CPU package(s) only; DRAM, storage, network, fans, any GPU and "
    "power-supply losses are not included",
    "package+dram": "the CPU package(s) and DRAM; storage, network, fans, any GPU and "
    "power-supply losses are not included",
    "psys": "the platform (SoC) domain that RAPL reports as psys",
    "board": "the GPU board; the host CPU, its memory and the rest of the machine are not included",
    "process-cpu-time": "no meter: energy is computed from this process's CPU time and "
    "assumed watts per core",
    "usb": "everything drawn through the USB meter (the whole device on that port)",
    "wall": "the whole machine at the wall socket, power-supply losses included",
    "battery": "the device's battery discharge",
    "dc": "the DC supply of the board",
    "simulated": "a simulated power trace; no hardware was read",
}
COMPONENT_SCOPES = ("package", "package+dram", "psys", "board")
"""Scopes that leave out part of the device: a battery count from them is optimistic."""

INTERVAL_TEXT = {
    "student-t": "a Student-t 95% confidence interval over the windows[[cite:student1908]]",
    "stein-two-stage": "the 95% interval of Stein's two-stage procedure[[cite:stein1945]]",
    "between-runs": "a Student-t 95% interval over the means of the repeated runs "
    "[[cite:student1908]]",
}


def _gib(size_bytes: float) -> str:
    return f"{num(size_bytes / 2**30)} GiB"


def _variants(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in document.get("measurements", []) if m.get("variant")]


def _first(document: dict[str, Any]) -> dict[str, Any]:
    measurements = document.get("measurements") or [{}]
    return measurements[0]


def _machine(document: dict[str, Any]) -> str:
    machine = document.get("machine") or {}
    parts = [machine.get("cpu_model") or "an unrecorded CPU"]
    cores = [
        f"{machine['logical_cpus']} logical CPUs" if machine.get("logical_cpus") else "",
        f"{machine['physical_cpus']} physical cores" if machine.get("physical_cpus") else "",
        f"{_gib(machine['memory_bytes'])} of memory" if machine.get("memory_bytes") else "",
    ]
    text = f"The run used {parts[0]}"
    if any(cores):
        text += f" ({', '.join(c for c in cores if c)})"
    gpus = [g.get("name", str(g)) if isinstance(g, dict) else str(g) for g in machine.get("gpus")
            or []]  # fmt: skip
    if gpus:
        driver = machine.get("gpu_driver")
        text += f", with {join(gpus)}" + (f" (driver {driver})" if driver else "")
    system = " ".join(str(machine[k]) for k in ("os", "kernel") if machine.get(k))
    if system:
        text += f", under {system}" + (f" ({machine['arch']})" if machine.get("arch") else "")
    text += f", machine fingerprint {document.get('machine_id', 'not recorded')}."
    libraries = machine.get("libraries") or {}
    named = [f"{name} {version}" for name, version in libraries.items() if version]
    if machine.get("python"):
        named.insert(0, f"Python {machine['python']}")
    if named:
        text += f" Software: {join(named)}."
    governor = machine.get("governor")
    if governor:
        text += f" The CPU frequency governor was {governor}."
    elif machine.get("governors"):
        text += f" CPU frequency governors: {join(sorted(set(machine['governors'].values())))}."
    else:
        text += " The CPU frequency governor could not be read (no cpufreq interface)."
    if machine.get("boost") is not None:
        text += f" Turbo/boost was {'on' if machine['boost'] else 'off'}."
    if machine.get("smt") is not None:
        text += f" Simultaneous multithreading was {'on' if machine['smt'] else 'off'}."
    return text


def _task(document: dict[str, Any]) -> list[str | list[str]]:
    task = document.get("task")
    if not task:
        return []
    data = str(task.get("data") or "")
    cite = "[[cite:greene2006]]" if "bbc" in data.lower() else ""
    text = f"The task was {task.get('name', 'unnamed')} ({task.get('kind', 'unknown kind')})"
    if data:
        text += f" on {data}{cite}"
    if is_generation(document):
        return [text + ". " + generation.task_text(task)]
    sizes = []
    if task.get("train") is not None:
        sizes.append(f"{task['train']:,} training examples (used only to build variants)")
    if task.get("test") is not None:
        sizes.append(f"{task['test']:,} held-out test examples")
    if sizes:
        text += f": {join(sizes)}"
    if task.get("labels"):
        text += f", {plural(len(task['labels']), 'class')}"
    text += "."
    if task.get("test_set_sha256"):
        text += (
            f" Every variant was scored on the same test set (SHA-256 "
            f"{task['test_set_sha256'][:16]}...)."
        )
    return [text]


def _meter(document: dict[str, Any]) -> list[str | list[str]]:
    first = _first(document)
    method = first.get("method", "unknown")
    meter = first.get("meter", "unknown")
    scope = str(first.get("scope") or "")
    label = first.get("method_label", method)
    details = first.get("meter_details") or {}
    paragraphs: list[str | list[str]] = []
    if method in ("estimated", "simulated"):
        paragraphs.append(
            f"Energy figures in this run are {label}: the {meter} meter "
            + ("computes" if method == "estimated" else "replays")
            + " them"
            + (f" ({details['source']})" if details.get("source") else "")
            + ". They are not readings of a power meter and must not be reported as measured."
        )
    else:
        cite = {"rapl": "[[cite:david2010]]", "nvml": "[[cite:nvml]]"}.get(meter, "")
        paragraphs.append(
            f"Energy was {label} with the {meter} meter{cite}"
            + (f" ({details['source']})" if details.get("source") else "")
            + "."
        )
    scope_text = SCOPE_TEXT.get(scope, f"recorded as {scope!r}")
    text = f"Its scope is {scope or 'not recorded'}: {scope_text}."
    if details.get("zones"):
        text += f" Zones read: {join([str(z) for z in details['zones']])}."
    if details.get("device_names"):
        text += f" Devices: {join([str(d) for d in details['device_names']])}."
    if details.get("secondary"):
        text += f" Also recorded, not summed: {join([str(s) for s in details['secondary']])}."
    if first.get("meter_reason"):
        text += f" Meter choice: {first['meter_reason']}."
    accuracy = (first.get("systematic") or {}).get("accuracy") or {}
    if accuracy.get("rel_frac") is not None:
        text += f" Stated accuracy of the meter: ±{percent(accuracy['rel_frac'])}" + (
            f" ({accuracy['source']})" if accuracy.get("source") else ""
        )
        if meter == "rapl":
            text += "[[cite:hackenberg2015,desrochers2016]]"
        text += (
            "; this systematic error is the same in every window, is not reduced by more "
            "windows and is not included in the ± intervals below, which are statistical."
        )
    paragraphs.append(text)
    if details.get("manual_form"):
        paragraphs.append(
            f"Readings were taken by hand ({details['manual_form']} form, confidence "
            f"{details.get('confidence', 'not stated')})."
        )
    return paragraphs


def _windows(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for m in document.get("measurements", []) for w in m.get("windows", [])]


def _protocol(document: dict[str, Any]) -> list[str | list[str]]:
    settings = document.get("settings") or {}
    first = _first(document)
    variants = _variants(document)
    paragraphs: list[str | list[str]] = []
    if variants:
        threads = first.get("threads") or {}
        text = (
            "Each variant ran in its own worker process; the parent process held the meter and "
            "told each worker when to run. "
            + (generation.PROTOCOL if is_generation(document) else "")
            + f" One {'request' if is_generation(document) else 'inference is one test example'}"
        ).replace("  ", " ")
        includes = variants[0]["variant"].get("inference_includes") or []
        if includes:
            text += f"{' includes' if is_generation(document) else ', and includes'} "
            text += join([str(i) for i in includes])
        text += "."
        if threads.get("torch_threads") is not None:
            text += f" Workers used {plural(int(threads['torch_threads']), 'thread')}"
            pools = threads.get("thread_pools") or {}
            if pools:
                text += " (" + ", ".join(f"{k}: {v}" for k, v in pools.items()) + ")"
            text += "."
        paragraphs.append(text)
    calls = sorted({int(m["calls_per_window"]) for m in document.get("measurements", [])
                    if m.get("calls_per_window")})  # fmt: skip
    min_window = first.get("min_window_s", settings.get("min_window_s"))
    parts = []
    if "warmup_calls" in settings:
        parts.append(
            f"Before measuring, each workload was warmed up for at least "
            f"{plural(int(settings['warmup_calls']), 'call')} and "
            f"{num(settings.get('warmup_s', 0), 2)} s"
        )
    if min_window is not None:
        parts.append(
            "the number of calls per window was then set from the median warm-up call so that "
            f"a window lasts at least {num(min_window, 2)} s"
            if parts
            else f"Windows lasted at least {num(min_window, 2)} s"
        )
        if calls:
            shown = f"{calls[0]}" if len(calls) == 1 else f"{calls[0]} to {calls[-1]}"
            parts[-1] += f" ({shown} call{'' if calls == [1] else 's'} per window)"
    text = "; ".join(parts) + "." if parts else ""
    durations = [float(w["duration_s"]) for w in _windows(document) if w.get("duration_s")]
    if durations:
        low, high = num(min(durations), 2), num(max(durations), 2)
        spread = f"{low} s" if low == high else f"{low} to {high} s"
        text += (
            f" Measured windows lasted {spread} (median {num(statistics.median(durations), 2)} s)."
        )
    paragraphs.append(text.strip())
    rounds = document.get("order") or sorted(
        {int(w.get("round_index", 0)) for w in _windows(document)}
    )
    labels = [m["label"] for m in document.get("measurements", [])]
    idle = bool(settings.get("idle")) and bool(document.get("idle_windows"))
    text = (
        f"Windows were taken in {plural(len(rounds), 'round')}; each round held one window of "
        f"each of the {plural(len(labels), 'workload')}"
        + (" and one idle window" if idle else "")
        + ", in an order shuffled anew every round by a generator seeded with "
        f"{document.get('order_seed', settings.get('seed'))}"
        + (" (the order of every round is saved with the results)." if document.get("order")
           else ".")
    )  # fmt: skip
    sleep_ms = 1000 * float(settings.get("sleep_max_s", 0))
    if sleep_ms:
        text += f" Before each window the harness slept a random 0-{num(sleep_ms, 3)} ms"
        if settings.get("settle_s"):
            text += f" after a fixed pause of {num(settings['settle_s'], 2)} s"
        text += "."
    paragraphs.append(text)
    paragraphs.append(_stopping(document))
    runs = sorted({int(w.get("run", 0)) for w in _windows(document)})
    if len(runs) > 1:
        paragraphs.append(
            f"The whole measurement was repeated {len(runs)} times, one run after another, each "
            "with fresh worker processes; a variant's figure is the mean of its run means."
        )
    idle_power = (first.get("figures") or {}).get("idle_power_w") or {}
    if idle and idle_power.get("mean") is not None:
        paragraphs.append(
            f"Idle power, measured in the same rounds (a sleep as long as a window), was "
            f"{num(idle_power['mean'])} W ± {num(idle_power.get('ci95') or 0, 2)} W (95% "
            f"interval, {plural(int(idle_power.get('n', 0)), 'idle window')}). Gross energy "
            "is what the meter read; net energy subtracts the idle power of the same round's "
            "idle window times the window's duration."
        )
    elif not idle:
        paragraphs.append("No idle windows were measured, so the run gives no net energy.")
    return paragraphs


def _contamination(document: dict[str, Any], retaken: int) -> str:
    """What the check for other processes found (empty for runs that did not check)."""
    settings = document.get("settings") or {}
    limit = settings.get("max_foreign_cores")
    checked = any(w.get("foreign") for w in _windows(document))
    if not checked:
        return ""
    kept = sum(
        1 for w in _windows(document) for f in w.get("flags") or [] if f.startswith(CONTAMINATED)
    )
    text = (
        " During every window the CPU time used by processes other than joulebench's was "
        "measured (the machine's busy time less that of joulebench's own processes)"
    )
    if limit is None:
        return text + "; windows were not judged by it."
    text += (
        f"; a window during which they kept more than {num(limit, 2)} CPU cores busy on "
        f"average was retaken, up to {settings.get('contaminated_retakes', '?')} times."
    )
    if retaken:
        text += f" {plural(retaken, 'window')} {'was' if retaken == 1 else 'were'} retaken so."
    if kept:
        text += (
            f" {plural(kept, 'window')} still loaded after the retakes "
            f"{'was' if kept == 1 else 'were'} kept and flagged contaminated."
        )
    return text


def _stopping(document: dict[str, Any]) -> str:
    measurements = document.get("measurements", [])
    rules = {(m.get("stopping") or {}).get("rule", "fixed") for m in measurements}
    counts = {m["label"]: int((m.get("figures") or {}).get("energy_per_item_j", {}).get("n", 0))
              for m in measurements}  # fmt: skip
    spread = sorted(set(counts.values()))
    taken = f"{spread[0]}" if len(spread) == 1 else f"{spread[0]} to {spread[-1]}"
    reasons = [str(d.get("reason", "")) for m in measurements for d in m.get("discarded") or []]
    retaken = sum(1 for r in reasons if r.startswith(CONTAMINATED))
    voided = len(reasons) - retaken
    tail = (
        f" {plural(voided, 'window')} the meter could not vouch for "
        f"{'was' if voided == 1 else 'were'} discarded and taken again."
        if voided
        else ""
    ) + _contamination(document, retaken)
    if rules == {"fixed"}:
        return f"A fixed number of windows was taken: {taken} per workload.{tail}"
    stopping = measurements[0].get("stopping") or {}
    planned = ", ".join(
        f"{m['label']} {(m.get('stopping') or {}).get('planned_windows', '?')}"
        for m in measurements
    )
    short = [
        m["label"]
        for m in measurements
        if not (m.get("stopping") or {}).get("planned_windows_reached")
    ]
    return (
        f"The number of windows followed Stein's two-stage procedure[[cite:stein1945]]: a "
        f"pilot of {stopping.get('pilot_windows', '?')} windows per workload gave the mean and "
        f"standard deviation from which the total for a 95% half-width of "
        f"{percent(float(stopping.get('target_rel_ci95') or 0))} of the mean was planned (at "
        f"most {stopping.get('max_windows', '?')} windows and "
        f"{num(stopping.get('max_time_s') or 0)} s). Planned: {planned}; taken: {taken} per "
        f"workload; "
        + (
            "every plan was completed."
            if not short
            else f"the plan was NOT completed within the caps for {', '.join(short)}."
        )
        + tail
    )


def _statistics(document: dict[str, Any]) -> list[str | list[str]]:
    measurements = document.get("measurements", [])
    kinds = {
        ((m.get("figures") or {}).get("energy_per_item_j") or {}).get("interval", "student-t")
        for m in measurements
    }
    counted = (
        "(this file predates that count: see the caveats)"
        if document.get("migrated_from")
        else "(a short last batch counts its own examples)"
    )
    made = join([INTERVAL_TEXT.get(k, f"a {k} interval") for k in sorted(kinds)])
    item, items = ("request", "prompts") if is_generation(document) else ("inference", "examples")
    paragraphs: list[str | list[str]] = [
        f"Energy per {item} is the mean over windows of each window's energy divided by the "
        f"{items} it ran {counted.replace('examples', items)}, with {made}. Time per {item} is "
        "computed the same way."
    ]
    variants = [m["variant"] for m in _variants(document)]
    accuracy = [v for v in variants if v.get("accuracy")]
    if accuracy:
        sizes = sorted({int(v["accuracy"]["n"]) for v in accuracy})
        paragraphs.append(
            "Accuracy's 95% interval is Wilson's score interval[[cite:wilson1927]] over the "
            f"{' / '.join(f'{n:,}' for n in sizes)} test examples."
        )
    if is_generation(document):
        return paragraphs + generation.statistics_text(variants) + _latency_text(variants)
    boots = [v for v in variants if (v.get("outcomes") or {}).get("kind") == "bootstrap"]
    if boots:
        outcome = boots[0]["outcomes"]
        paragraphs.append(
            f"The 95% interval of {boots[0].get('primary_metric', 'the metric')} is a BCa "
            f"bootstrap over examples[[cite:efron1987]] ({count(outcome.get('resamples'))} "
            f"resamples, seed {outcome.get('seed')}, scipy {outcome.get('scipy')})."
        )
    paired = [v for v in variants if (v.get("outcomes") or {}).get("kind") == "correct"]
    if len(paired) >= 2:
        paragraphs.append(
            "In the plots the Pareto frontier is drawn through the means; a variant off it is "
            "marked possibly optimal when no variant that dominates it on the means is "
            "significantly better: in accuracy by McNemar's exact test[[cite:mcnemar1947]] on "
            "the examples both got right or wrong (p < 0.05), in other figures by 95% intervals "
            "that do not overlap."
        )
    return paragraphs + _latency_text(variants)


def _latency_text(variants: list[dict[str, Any]]) -> list[str | list[str]]:
    latency = [v["latency"] for v in variants if v.get("latency")]
    if not latency:
        return []
    samples = [int(item.get("batch_samples") or 0) for item in latency]
    return [
        "Latency percentiles come from every full batch timed inside the energy windows "
        f"({min(samples)} to {max(samples)} batches per variant); p95 is given with at "
        "least 20 batches and p99 with at least 100, and left out otherwise."
    ]


def _battery(document: dict[str, Any], profile: Battery) -> list[str | list[str]]:
    first = _first(document)
    text = (
        f"Inferences per charge assume the {profile.name} battery profile "
        f"({profile.describe().removeprefix(profile.name + ': ')}): its "
        f"usable energy, {num(profile.usable_energy_j, 4)} J ({num(profile.capacity_wh, 4)} "
        "Wh x 3,600 s/h"
    )
    if profile.usable_fraction != 1.0:
        text += f" x {percent(profile.usable_fraction)} usable"
    if profile.path_efficiency != 1.0:
        text += f" x {percent(profile.path_efficiency)} conversion efficiency"
    text += (
        ") divided by the gross energy per inference: everything the meter saw drains a "
        "battery, idle power included."
    )
    if first.get("scope") in COMPONENT_SCOPES:
        text += (
            f" Because the meter's scope ({first['scope']}) leaves out the rest of the device, "
            "these counts are optimistic."
        )
    if first.get("method") in ("estimated", "simulated"):
        text += f" Because energy was {first['method']}, so are these counts."
    return [text]


def _caveats(document: dict[str, Any]) -> list[str | list[str]]:
    lines = []
    first = _first(document)
    if first.get("method") in ("estimated", "simulated"):
        lines.append(f"Energy is {first.get('method_label')} in every figure of this run.")
    if document.get("migrated_from"):
        lines.append(
            f"The results file was written in schema version {document['migrated_from']} and "
            "read through a migration; its per-inference figures divided by the nominal batch "
            "size."
        )
    lines += _flag_lines(document)
    for failure in document.get("failures") or []:
        lines.append(f"{failure.get('name')} was not measured: {failure.get('error')}.")
    if not lines:
        return ["The run raised no flags."]
    return ["The run recorded these caveats:", lines]


def _flag_lines(document: dict[str, Any]) -> list[str]:
    """One line per flag code: the variants that carry it and one of their messages."""
    by_code: dict[str, list[tuple[str, str]]] = {}
    for m in document.get("measurements", []):
        for flag in m.get("flags") or []:
            code = str(flag.get("code"))
            by_code.setdefault(code, []).append((m["label"], str(flag.get("message", code))))
    lines = []
    for code, carriers in by_code.items():
        label, message = carriers[0]
        if len(carriers) == 1:
            lines.append(f"{label}: {message} (flag {code}).")
        else:
            names = join([name for name, _ in carriers])
            lines.append(
                f"Flag {code} on {len(carriers)} workloads ({names}); for {label}: {message}."
            )
    return lines


def _calibration(document: dict[str, Any], calibration: Calibration) -> list[str | list[str]]:
    """How the whole-device figures of a run were made from its counter."""
    a_low, a_high = calibration.interval("slope")
    b_low, b_high = calibration.interval("intercept")
    return [
        f"Whole-device energy was calibrated on this machine ({calibration.machine_id}) with "
        f"the profile {calibration.name}: the {calibration.whole_scope} meter's log "
        f"({calibration.log}) of run {calibration.run_id} was aligned to its "
        f"{calibration.windows} windows, idle windows included (clock offset "
        f"{num(calibration.clock_offset_s, 3)} s), and each window's mean whole-device "
        f"power (the log's samples inside the window, one sample interval left out at each "
        f"edge) was fitted against the {calibration.meter} counter's ({calibration.scope}) "
        f"by least squares: whole = a x counter + b, a = {calibration.slope:.4g} (95% "
        f"interval {a_low:.4g} to {a_high:.4g}), b = {calibration.intercept_w:.4g} W "
        f"({b_low:.4g} to {b_high:.4g} W), over counter powers of "
        f"{num(calibration.component_range_w[0])} to {num(calibration.component_range_w[1])} "
        f"W, residual standard deviation {num(calibration.residual_std_w, 2)} W. The "
        "intervals use the heteroscedasticity-consistent HC3 covariance[[cite:mackinnon1985]]"
        ", as a meter's noise grows with its reading.",
        "A window's whole-device energy is a x its counter energy + b x its duration; the "
        "calibrated energy per inference is their mean per inference with the run's own "
        "interval, widened by the fit's uncertainty in a and b (their covariance included), "
        "the two combined with Welch-Satterthwaite degrees of freedom"
        "[[cite:satterthwaite1946]]. Calibrated inferences per charge use this energy.",
    ]


def _code(document: dict[str, Any]) -> str:
    """The commit the run measured, as the results recorded it ("" when they did not)."""
    code = document.get("provenance") or {}
    if not code.get("commit"):
        return ""
    text = f" The code measured was commit {str(code['commit'])[:12]}"
    if code.get("branch"):
        text += f" on branch {code['branch']}"
    if code.get("dirty"):
        text += ", with uncommitted changes to tracked files"
    ci = code.get("ci") or {}
    if ci.get("run_url"):
        text += f", in CI run {ci['run_url']}"
    return text + "."


def methods_sections(
    runs: Sequence[tuple[Path, dict[str, Any]]],
    profile: Battery,
    calibrations: dict[str, Calibration] | None = None,
) -> tuple[list[Section], list[str]]:
    """The methods section of ``runs`` (path, document) as sections, and the keys it cites;
    ``calibrations`` (by machine id): the profiles whose whole-device figures the report
    shows."""
    sections: list[Section] = []
    several = len(runs) > 1
    for path, document in runs:
        prefix = f"Run {document.get('run_id')}: " if several else ""
        source = (
            f"All figures come from the joulebench results file {path.name} (run "
            f"{document.get('run_id')}, {document.get('created_utc', 'time not recorded')}, "
            f"joulebench {document.get('joulebench_version', '?')}); this section was written "
            "from that file by joulebench report --format methods."
        ) + _code(document)
        sections += [
            Section(f"{prefix}Hardware and software", [_machine(document)]),
            Section(
                f"{prefix}Task and variants",
                [*_task(document), variant_lines(_variants(document))],
            ),
            Section(f"{prefix}Energy measurement", _meter(document)),
            Section(f"{prefix}Measurement protocol", _protocol(document)),
            Section(f"{prefix}Statistics", _statistics(document)),
            Section(f"{prefix}Inferences per battery charge", _battery(document, profile)),
            Section(
                f"{prefix}Whole-device calibration",
                _calibration(document, calibrations[document.get("machine_id")])
                if calibrations and document.get("machine_id") in calibrations
                else [],
            ),
            Section(f"{prefix}Caveats", _caveats(document)),
            Section(f"{prefix}Source", [source]),
        ]
        sections = [s for s in sections if any(s.paragraphs)]
    return sections, cited_keys(sections)


@dataclass(frozen=True)
class MethodsText:
    """The three files of ``--format methods``."""

    markdown: str
    latex: str
    bibtex: str


def write_methods(
    runs: Sequence[tuple[Path, dict[str, Any]]],
    profile: Battery,
    bib_name: str,
    title: str = "Methods",
    calibrations: dict[str, Calibration] | None = None,
) -> MethodsText:
    """The methods section of ``runs`` in Markdown and LaTeX, and its BibTeX file."""
    sections, keys = methods_sections(runs, profile, calibrations)
    return MethodsText(
        render_markdown(sections, keys, title),
        render_latex(sections, bib_name, title),
        bibtex(keys),
    )
