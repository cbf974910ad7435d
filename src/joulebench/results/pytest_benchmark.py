"""pytest-benchmark's JSON files, read as joulebench run documents (energy from ``joules``).

The ``joules`` fixture stores a whole joulebench measurement in each benchmark's
``extra_info["joulebench"]``; this turns a pytest-benchmark file (``.benchmarks/.../0001_x.json``)
into a run document with one measurement per benchmark, so ``joulebench compare`` and
``joulebench.results.load`` work on it.
"""

from __future__ import annotations

from typing import Any

from joulebench import __version__
from joulebench.errors import ResultsError

EXTRA_KEY = "joulebench"


def is_pytest_benchmark(document: dict[str, Any]) -> bool:
    """True for a pytest-benchmark JSON file (not a joulebench run document)."""
    return "schema_version" not in document and {"benchmarks", "machine_info"} <= set(document)


def from_pytest_benchmark(document: dict[str, Any], source: str) -> dict[str, Any]:
    """A run document holding every benchmark whose energy the ``joules`` fixture measured."""
    records = [
        (bench, bench.get("extra_info", {}).get(EXTRA_KEY) or {})
        for bench in document.get("benchmarks", [])
    ]
    measured = [(bench, r) for bench, r in records if r.get("measurement")]
    if not measured:
        raise ResultsError(
            f"{source} is a pytest-benchmark file with no energy in it; use the `joules` "
            "fixture and run pytest with --benchmark-joules"
        )
    machines = {r["machine_id"] for _, r in measured}
    if len(machines) > 1:
        raise ResultsError(f"{source} mixes machines {sorted(machines)}; split it per machine")
    first = measured[0][1]
    measurements = []
    for bench, record in measured:
        measurement = dict(record["measurement"])
        measurement["label"] = bench.get("fullname") or bench["name"]
        measurement["pytest_benchmark"] = {
            "time_mean_s": (bench.get("stats") or {}).get("mean"),
            "rounds": (bench.get("stats") or {}).get("rounds"),
        }
        measurements.append(measurement)
    stamp = str(document.get("datetime", "")).replace(":", "").replace("-", "")[:15]
    commit = (document.get("commit_info") or {}).get("id") or ""
    return {
        # the fixture's record says which results schema its measurement was written in
        "schema_version": first.get("schema_version", 1),
        "joulebench_version": __version__,
        "run_id": f"pytest-{stamp or 'run'}{'-' + commit[:8] if commit else ''}",
        "created_utc": document.get("datetime", ""),
        "machine_id": first["machine_id"],
        "machine": first.get("machine", {}),
        "settings": {},
        "extra": {"pytest_benchmark": source, "commit_info": document.get("commit_info")},
        "measurements": measurements,
        "idle_windows": first.get("idle_windows", []),
    }
