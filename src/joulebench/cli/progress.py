"""A rich progress display on stderr for variant runs: build, load and score, windows, ETA."""

from __future__ import annotations

from types import TracebackType

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

    The windows bar knows how many windows the protocol plans (variants + idle, times
    ``windows``) and so gives an ETA; adaptive stopping may add a few beyond it.
    """

    def __init__(self, variants: int, windows: int, idle: bool = True, repeat: int = 1) -> None:
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
            "energy windows", total=(variants + idle) * windows * repeat
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
        elif event.kind in ("meter", "discarded", "interrupted", "target", "dropped", "run"):
            self.console.print(f"{event.kind}: {where}{event.message}", markup=False)
