"""Progress of variant runs on stderr: rich bars on a terminal (build, load and score,
windows, ETA), plain timed lines in a log."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from joulebench.harness.runner import Event


class RunProgress:
    """An ``on_event`` callback that drives three bars: build, load & score, energy windows.

    The windows bar knows how many windows the protocol plans (variants x ``kinds`` + idle,
    times ``windows``; a generation variant has 2 kinds, full and prefill) and so gives an
    ETA; adaptive stopping may add a few beyond it.
    """

    def __init__(
        self, variants: int, windows: int, idle: bool = True, repeat: int = 1, kinds: int = 1
    ) -> None:
        self.console = Console(stderr=True)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
        )
        self._build: TaskID | None = None
        self._load = self.progress.add_task("load and score", total=variants * repeat)
        self._windows = self.progress.add_task(
            "energy windows", total=(variants * kinds + idle) * windows * repeat
        )

    def __enter__(self) -> RunProgress:
        self.progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def __call__(self, event: Event) -> None:
        where = f"{event.label}: " if event.label else ""
        if event.kind in ("build", "train"):
            if self._build is None:
                self._build = self.progress.add_task("build", total=None)
            self.progress.update(self._build, description=escape(f"build — {where}{event.message}"))
        elif event.kind == "load":
            self.progress.update(self._load, description=escape(f"load and score — {event.label}"))
        elif event.kind in ("ready", "failed"):
            if event.kind == "failed":
                self.console.print(f"{where}{event.message}", style="red", markup=False)
            self.progress.advance(self._load)
        elif event.kind == "window":
            self.progress.update(
                self._windows, description=escape(f"energy windows — {event.label}")
            )
            self.progress.advance(self._windows)
        elif event.kind in PlainLog.NOTICE_KINDS:
            self.console.print(f"{event.kind}: {where}{event.message}", markup=False)


class PlainLog:
    """An ``on_event`` callback for logs (stderr not a terminal: CI, a file, a pipe): plain
    lines with the time since the start, no progress frames. Every build step, each variant
    loaded and scored, warm-up and calibration, and the windows done after each round."""

    NOTICE_KINDS = ("meter", "discarded", "contaminated", "interrupted", "target", "dropped",
                    "run", "resumed")  # fmt: skip
    """Events a reader must see, on a terminal too."""
    LINE_KINDS = ("build", "train", "load", "ready", "failed", "warmup", "calibrated",
                  *NOTICE_KINDS)  # fmt: skip

    def __init__(
        self,
        variants: int,
        windows: int,
        idle: bool = True,
        repeat: int = 1,
        *,
        stream: TextIO | None = None,
        kinds: int = 1,
    ) -> None:
        self.stream = stream
        self.round_size = max(1, variants * kinds + idle)
        self.planned = self.round_size * windows * repeat
        self.windows_done = 0
        self.started = time.monotonic()

    def __enter__(self) -> PlainLog:
        self._print("started")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._print("finished" if kind is None else f"stopped ({kind.__name__})")

    def _print(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:7.1f} s] {text}", file=self.stream or sys.stderr, flush=True)

    def __call__(self, event: Event) -> None:
        where = f"{event.label}: " if event.label else ""
        if event.kind == "window":
            self.windows_done += 1
            if self.windows_done % self.round_size == 0:
                self._print(
                    f"energy windows: {self.windows_done} done (about {self.planned} planned)"
                )
        elif event.kind in self.LINE_KINDS:
            self._print(f"{event.kind}: {where}{event.message}")
