"""The run journal: every window written down as it is taken, so a killed run resumes.

One JSON object per line, appended and flushed to disk (``fsync``) before the next window
opens, so after ``kill -9`` or a power cut the file holds every window that ended. The
first line (``start``) says what the run is: what it needs to be started again (the
experiment, for ``joulebench run --resume``). Then, as they happen:

- ``session``: the runner's seed, settings and meter (again after each resume);
- ``calibrated``: a workload's calls per window (a resumed run keeps them, so its windows
  are the same size as the ones before);
- ``round``: a round's shuffled order;
- ``window``: one window, whole (readings, host state, foreign load, latencies);
- ``discarded``: a window the meter voided, or a contaminated one retaken.

A last line cut short by the kill is ignored (it was never a finished record); a broken line
before the last is refused as a corrupt journal. The finished run's document replaces the
journal: the runner's caller deletes it once the document is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from joulebench.devices.base import EnergyReading
from joulebench.errors import UserError
from joulebench.harness.result import Discarded, Window

JOURNAL_VERSION = 1
SUFFIX = ".journal.jsonl"
UNFINISHED = "unfinished"
"""The folder of a results folder that holds work in progress (journals, fleet records, the
documents a finished resume superseded); reading results skips it."""


def window_to_record(window: Window) -> dict[str, Any]:
    """A window as plain JSON (every field; :func:`window_from_record` rebuilds it)."""
    data = asdict(window)
    data["readings"] = [r.to_dict() for r in window.readings]
    data["flags"] = list(window.flags)
    data["latencies_s"] = list(window.latencies_s)
    data["latency_items"] = list(window.latency_items)
    return data


def window_from_record(data: dict[str, Any]) -> Window:
    """The window a :func:`window_to_record` record holds."""
    values = dict(data)
    values["readings"] = tuple(EnergyReading(**r) for r in data["readings"])
    values["flags"] = tuple(data.get("flags", ()))
    values["latencies_s"] = tuple(data.get("latencies_s", ()))
    values["latency_items"] = tuple(data.get("latency_items", ()))
    return Window(**values)


class Journal:
    """An append-only journal at ``path`` (created with its ``start`` record)."""

    def __init__(self, path: Path, start: dict[str, Any], *, fresh: bool = True) -> None:
        self.path = path
        if fresh:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("x", encoding="utf-8"):
                    pass
            except FileExistsError:
                raise UserError(
                    f"journal {path} already exists: resume it with --resume {path}, or move "
                    "it away"
                ) from None
            except OSError as exc:
                raise UserError(
                    f"cannot write the run journal {path} ({exc.strerror or exc}); choose a "
                    "writable --out folder"
                ) from None
            self.append({"kind": "start", "version": JOURNAL_VERSION, **start})

    def append(self, record: dict[str, Any]) -> None:
        """Write one record and force it to disk before returning."""
        line = json.dumps(record, allow_nan=False, default=str)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def calibrated(self, label: str, calls: int) -> None:
        """A workload's calls per window."""
        self.append({"kind": "calibrated", "label": label, "calls": calls})

    def round(self, round_index: int, order: Iterable[str]) -> None:
        """A round's order."""
        self.append({"kind": "round", "round": round_index, "order": list(order)})

    def window(self, window: Window) -> None:
        """A window that ended (kept or contaminated-and-kept)."""
        self.append({"kind": "window", "window": window_to_record(window)})

    def discarded(self, discarded: Discarded) -> None:
        """A window that was voided or retaken."""
        self.append({"kind": "discarded", "discarded": asdict(discarded)})

    def partial(self, document: Path) -> None:
        """The document an interrupted run saved: superseded once a resume finishes the run."""
        self.append({"kind": "partial", "path": str(document)})

    def remove(self) -> None:
        """Delete the journal (its run's document is written)."""
        self.path.unlink(missing_ok=True)


@dataclass
class JournalState:
    """What a journal holds: enough to go on where the run stopped."""

    path: Path
    start: dict[str, Any]
    sessions: list[dict[str, Any]] = field(default_factory=list)
    """The runner's ``session`` records: seed, settings and meter (one per start or resume)."""
    calls: dict[str, int] = field(default_factory=dict)
    windows: dict[str, list[Window]] = field(default_factory=dict)
    discarded: list[Discarded] = field(default_factory=list)
    order: list[tuple[str, ...]] = field(default_factory=list)
    rounds: int = 0
    """Rounds begun (the next round's index)."""
    torn_line: bool = False
    """The last line was cut short (the kill came while it was written) and was ignored."""
    partials: list[str] = field(default_factory=list)
    """Documents the run saved when it was interrupted (Ctrl-C), each a part of this run."""

    @property
    def window_count(self) -> int:
        """Windows journalled, idle ones included."""
        return sum(len(ws) for ws in self.windows.values())

    def only(self, labels: Iterable[str]) -> JournalState:
        """The state for these workloads (and idle) only: a workload dropped since is gone."""
        keep = set(labels)
        return JournalState(
            path=self.path,
            start=self.start,
            sessions=list(self.sessions),
            calls={k: v for k, v in self.calls.items() if k in keep},
            windows={k: v for k, v in self.windows.items() if k in keep or k == "idle"},
            discarded=[d for d in self.discarded if d.label in keep or d.label == "idle"],
            order=list(self.order),
            rounds=self.rounds,
            torn_line=self.torn_line,
        )


def read_journal(path: Path | str) -> JournalState:
    """Read a journal; a torn last line is ignored, any other broken line is refused."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise UserError(f"no run journal at {path}: give the path joulebench printed") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the run journal {path} ({exc}); check the path") from None
    complete, tail = lines[:-1], lines[-1]  # a finished record ends with a newline
    records: list[dict[str, Any]] = []
    for number, line in enumerate(complete, start=1):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise UserError(
                f"run journal {path} is corrupt at line {number}; it cannot be resumed "
                "(measure again without --resume)"
            ) from None
    if not records or records[0].get("kind") != "start":
        raise UserError(f"{path} is not a joulebench run journal (no start record)")
    if records[0].get("version") != JOURNAL_VERSION:
        raise UserError(
            f"run journal {path} has version {records[0].get('version')!r}; this joulebench "
            f"reads version {JOURNAL_VERSION}: resume it with the joulebench that wrote it"
        )
    state = JournalState(path=path, start=records[0], torn_line=bool(tail.strip()))
    for record in records[1:]:
        kind = record.get("kind")
        if kind == "session":
            state.sessions.append(record)
        elif kind == "calibrated":
            state.calls[record["label"]] = int(record["calls"])
        elif kind == "round":
            state.order.append(tuple(record["order"]))
            state.rounds = max(state.rounds, int(record["round"]) + 1)
        elif kind == "window":
            window = window_from_record(record["window"])
            state.windows.setdefault(window.label, []).append(window)
        elif kind == "discarded":
            state.discarded.append(Discarded(**record["discarded"]))
        elif kind == "partial":
            state.partials.append(str(record["path"]))
    return state
