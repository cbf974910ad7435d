"""One worker process per variant: it loads the model and runs batches on command.

The parent keeps the meter and takes the windows (rounds of A B C idle, shuffled); each
worker only runs ``n`` batches when told, so variants interleave though each lives in its own
process. Workers start from a fork server that has imported this module (and torch and
transformers' model code for Hugging Face variants) once (``harness.preload``) and done
nothing else, on Linux for CPU variants (spawn for GPU variants, elsewhere, or with
``JOULEBENCH_SPAWN=1``): a worker starts without importing them again (about 8 s a worker
on 2 cores). No model, CUDA context or meter is shared: the server never loads a model or
starts CUDA, and starts with one thread per thread pool; each worker sets its pools to the
run's threads (``threadpoolctl``, torch). Messages are tuples over a pipe: ``("run", n)`` ->
``("done", WorkDone(items, latencies_s, latency_items))``, ``("memory",)`` -> ``("memory",
{"peak_rss_bytes", "gpu_peak_bytes"})``, ``("stop",)``.

What one inference includes (recorded in results as ``inference_includes``): the variant's
``predict`` on a batch of the task's inputs — for the built-in text back-ends tokenisation,
the copy to the device, the forward pass, the arg-max and the copy of the labels back — and
the wait for the device to finish (``harness.device_sync``). A user's ``loader`` runs once
before measuring and is not included.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from joulebench.errors import JoulebenchError, VariantError, WorkloadError
from joulebench.harness.device_sync import synchronizer
from joulebench.harness.memory import peak_rss_bytes
from joulebench.harness.result import WorkDone
from joulebench.harness.telemetry import thread_settings
from joulebench.variants.spec import VariantSpec
from joulebench.variants.user import WORKER_ENV

READY_TIMEOUT_S = 1800.0
PR_SET_PDEATHSIG = 1
"""prctl(2): the signal this process gets when its parent dies (Linux)."""
POLL_S = 0.5
ACCURACY_WARMUP_BATCHES = 2
PRELOAD = "joulebench.harness.preload"
"""The fork server imports this module once: this module, and torch and transformers' model
code when the first variant is a Hugging Face one."""
PRELOAD_ENV = "JOULEBENCH_PRELOAD_MODEL_CODE"
"""Set to 1 in the fork server's environment to import torch and transformers' model code."""
SPAWN_ENV = "JOULEBENCH_SPAWN"
"""Set to 1 to start every worker with spawn (a fresh interpreter), as before the fork server."""
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
TOKENISING = ("torch", "onnxruntime")
"""Back-ends that tokenise texts with transformers, cut to the run's max length (others never
see it); their workers import transformers, so the fork server preloads its model code."""


PHASE_FULL = "full"
"""A window's calls run the whole workload: a batch's predictions, or a full generation."""
PHASE_PREFILL = "prefill"
"""A generation window whose calls only read the prompts and produce the first token."""


@dataclass(frozen=True)
class GenerationJob:
    """What a generation task asks of a causal LM's worker (``tasks.generation``)."""

    documents: tuple[str, ...]
    prompt_tokens: int
    max_new_tokens: int
    ppl_tokens: int
    texts: bool = False
    """Generate every prompt's text in the scoring pass (a user's metric needs them)."""
    kv_cache: bool = True


@dataclass(frozen=True)
class WorkerJob:
    """What a worker needs: the variant, the test inputs, the batch size and the threads.

    ``inputs``: texts, a numpy array (first axis = example) or a list of per-example objects;
    for a generation task (``generation`` set) the prompts.
    """

    spec: VariantSpec
    inputs: Any
    batch_size: int
    threads: int
    device: str = "cpu"
    max_length: int = 128
    generation: GenerationJob | None = None


@dataclass
class WorkerReady:
    """What a worker reports once loaded: predictions, what it is, the threads it runs with."""

    predictions: Any
    """One per example: a list (labels, objects) or an array (labels, or scores per class)."""
    scoring_s: float
    """Time of the scoring pass (not a latency figure: those come from the energy windows)."""
    backend: str
    params: int | None
    size_bytes: int | None
    details: dict[str, Any] = field(default_factory=dict)
    load_s: float = 0.0
    rss_after_load_bytes: int | None = None
    scores: Any = None
    """The task's scores of ``predictions``, set by the parent (``tasks.metrics.Scores``)."""
    threads: dict[str, Any] = field(default_factory=dict)
    """Thread settings as the worker actually runs (OpenMP, MKL, torch, affinity)."""


class BatchLoop:
    """Runs batches for the energy windows: round the test set, from where the last call ended.

    Every batch is timed on its own and the device is waited for after each one, so a window
    ends on finished work and each latency is the batch's real time. A short last batch counts
    its own examples.
    """

    def __init__(self, model: Any, batches: list[Any], sizes: list[int], device: str) -> None:
        self.model = model
        self.batches = batches
        self.sizes = sizes
        self.sync = synchronizer(device)
        self.cursor = 0

    def run(self, n: int) -> WorkDone:
        """Run ``n`` batches; return the items they held and each batch's time."""
        latencies: list[float] = []
        items: list[int] = []
        for _ in range(n):
            index = self.cursor
            self.cursor = (self.cursor + 1) % len(self.batches)
            start = time.perf_counter()
            self.model.predict(self.batches[index])
            self.sync()
            latencies.append(time.perf_counter() - start)
            items.append(self.sizes[index])
        return WorkDone(sum(items), tuple(latencies), tuple(items))


def _batches(inputs: Any, size: int) -> list[Any]:
    """Consecutive batches of ``size`` (an array stays an array; other sequences are lists)."""
    if hasattr(inputs, "shape"):
        return [inputs[i : i + size] for i in range(0, len(inputs), size)]
    return [list(inputs[i : i + size]) for i in range(0, len(inputs), size)]


def _as_rows(name: str, out: Any, expected: int) -> Any:
    """A batch's output as one item per example (numpy for tensors); refuses any other count."""
    if hasattr(out, "detach") and hasattr(out, "cpu"):  # a torch tensor
        out = out.detach().cpu().numpy()
    if isinstance(out, np.ndarray):
        count = out.shape[0] if out.ndim else None
    elif isinstance(out, (list, tuple)):
        count = len(out)
    else:
        raise VariantError(
            f"variant {name!r} returned a {type(out).__name__} for a batch of {expected}; "
            "return one prediction per example (a list, a numpy array or a tensor)"
        )
    if count != expected:
        shape = f"shape {out.shape}" if isinstance(out, np.ndarray) else f"{count} items"
        raise VariantError(
            f"variant {name!r} returned {shape} for a batch of {expected}; return one "
            "prediction per example: labels (n,), scores (n, classes) or n objects"
        )
    return out


def _join(name: str, parts: list[Any]) -> Any:
    """Every batch's output as one array (when they stack) or one list."""
    if parts and all(isinstance(p, np.ndarray) for p in parts):
        try:
            return np.concatenate(parts)
        except ValueError:
            raise VariantError(
                f"variant {name!r} returned arrays of different shapes for different batches "
                f"({parts[0].shape[1:]} and {parts[-1].shape[1:]} per example); return the "
                "same shape for every batch"
            ) from None
    return [item for part in parts for item in (part.tolist() if isinstance(part, np.ndarray)
                                                else part)]  # fmt: skip


def _set_threads(threads: int) -> None:
    """The run's threads for every thread pool: the variables (for libraries loaded later)
    and the pools already loaded (numpy's BLAS and OpenMP came with the fork server or the
    job's unpickling, before any variable could be read)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    threadpool_limits(limits=threads)


def worker_main(conn: Connection, job: WorkerJob) -> None:
    """Entry point of the spawned process. Ctrl-C reaches it too: it then ends quietly and
    leaves the message to the parent."""
    try:
        _serve(conn, job)
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        return


def _memory() -> dict[str, int | None]:
    """Peak host memory, and peak GPU memory where torch used CUDA."""
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None)
    gpu = None
    if cuda is not None and cuda.is_available() and cuda.is_initialized():
        gpu = int(cuda.max_memory_allocated())
    return {"peak_rss_bytes": peak_rss_bytes(), "gpu_peak_bytes": gpu}


class _Stage:
    """What the worker is doing, for the message when it fails."""

    def __init__(self) -> None:
        self.name = "loading"


def _start_predict(job: WorkerJob, stage: _Stage) -> tuple[dict[str, BatchLoop], WorkerReady]:
    """Load the variant, score it on every test input; one loop of batches for the windows."""
    from joulebench.variants.base import prepare
    from joulebench.variants.load import load_variant

    t0 = time.perf_counter()
    model = load_variant(
        job.spec, device=job.device, threads=job.threads, max_length=job.max_length
    )
    load_s = time.perf_counter() - t0
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(job.threads)
    raw = _batches(job.inputs, job.batch_size)
    sizes = [len(b) for b in raw]
    stage.name = "preparing the batches (its loader)"
    batches = [prepare(model, b) for b in raw]
    stage.name = "predicting"
    for batch in batches[:ACCURACY_WARMUP_BATCHES]:
        model.predict(batch)
    parts: list[Any] = []
    start = time.perf_counter()
    for batch, size in zip(batches, sizes, strict=True):
        parts.append(_as_rows(job.spec.name, model.predict(batch), size))
    ready = _ready(model, _join(job.spec.name, parts), time.perf_counter() - start, load_s)
    return {PHASE_FULL: BatchLoop(model, batches, sizes, job.device)}, ready


def _ready(model: Any, predictions: Any, scoring_s: float, load_s: float) -> WorkerReady:
    """What a loaded and scored variant reports: its predictions and what it is."""
    info = model.info
    return WorkerReady(
        predictions,
        scoring_s,
        info.backend,
        info.params,
        info.size_bytes,
        dict(info.details),
        load_s,
        peak_rss_bytes(),
        threads=thread_settings(),
    )


class _Generate:
    """A causal LM as a batch loop's model: ``predict`` generates ``new_tokens`` tokens."""

    def __init__(self, model: Any, new_tokens: int) -> None:
        self.model = model
        self.new_tokens = new_tokens

    def predict(self, batch: Any) -> Any:
        return self.model.generate(batch, self.new_tokens)


def _start_generate(job: WorkerJob, stage: _Stage) -> tuple[dict[str, BatchLoop], WorkerReady]:
    """Load a causal LM, score its perplexity (and generate every prompt's text where a metric
    needs it); two loops for the windows: full generations and prefill only (one new token)."""
    from joulebench.tasks.generation import GenerationOutput
    from joulebench.variants.load import load_causal

    gen = job.generation
    assert gen is not None
    t0 = time.perf_counter()
    model = load_causal(job.spec, device=job.device, threads=job.threads, kv_cache=gen.kv_cache)
    load_s = time.perf_counter() - t0
    model.check_lengths(gen.prompt_tokens, gen.max_new_tokens, gen.ppl_tokens)
    stage.name = "tokenising the prompts"
    ids = model.prompt_ids(job.inputs, gen.prompt_tokens)
    batches = model.batches(ids, job.batch_size)
    sizes = [int(b.shape[0]) for b in batches]
    stage.name = "scoring"
    start = time.perf_counter()
    nll, counts = model.document_nll(gen.documents, gen.ppl_tokens)
    texts = None
    if gen.texts:
        texts = tuple(
            text for b in batches for text in model.texts(model.generate(b, gen.max_new_tokens))
        )
    output = GenerationOutput(tuple(nll), tuple(counts), texts)
    ready = _ready(model, output, time.perf_counter() - start, load_s)
    loops = {
        PHASE_FULL: BatchLoop(_Generate(model, gen.max_new_tokens), batches, sizes, job.device),
        PHASE_PREFILL: BatchLoop(_Generate(model, 1), batches, sizes, job.device),
    }
    return loops, ready


def die_with_parent() -> None:
    """On Linux, have the kernel kill this process when its parent dies (``PR_SET_PDEATHSIG``).

    After ``kill -9`` of a run (or of a fleet job), its workers would otherwise go on as
    orphans and load the machine while the next run measures it. A worker forked by the fork
    server dies with it, and the fork server exits when the run's process is gone."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took hold
        os._exit(1)


def _serve(conn: Connection, job: WorkerJob) -> None:
    die_with_parent()
    # Ctrl-C is the parent's to handle: it saves what it has, then stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _set_threads(job.threads)
    os.environ[WORKER_ENV] = "1"
    stage = _Stage()
    try:
        start = _start_generate if job.generation is not None else _start_predict
        loops, ready = start(job, stage)
        try:
            conn.send(("ready", ready))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise VariantError(
                f"variant {job.spec.name!r}: its predictions cannot be sent back from the "
                f"worker ({type(exc).__name__}: {exc}); return numbers, arrays, lists or dicts"
            ) from None
    except JoulebenchError as exc:
        conn.send(("error", str(exc)))
        return
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        fix = (
            "call it on one batch of the task's inputs to see the traceback"
            if stage.name == "predicting"
            else "load it alone to see the traceback (JOULEBENCH_DEBUG=1 prints it)"
        )
        conn.send(
            (
                "error",
                f"variant {job.spec.name!r} raised {type(exc).__name__}: {first} while "
                f"{stage.name}; {fix}\n{traceback.format_exc(limit=3)}",
            )
        )
        return
    while True:
        message = conn.recv()
        if message[0] == "run":
            try:
                phase = message[2] if len(message) > 2 else PHASE_FULL
                done = loops[phase].run(message[1])
            except Exception as exc:
                conn.send(
                    ("error", f"variant {job.spec.name!r} raised {type(exc).__name__}: {exc}")
                )
                return
            conn.send(("done", done))
        elif message[0] == "memory":
            conn.send(("memory", _memory()))
        else:
            return


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start a spawned worker without re-running the caller's main script in it.

    spawn normally re-imports ``__main__`` in the child, so a script without an
    ``if __name__ == "__main__":`` guard would start itself again. The worker needs nothing
    from the caller's script (its job holds joulebench objects only), so the main module's
    ``__spec__`` and ``__file__`` are hidden while the process starts, then put back.
    """
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__spec__", "__file__") if main and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__dict__["__spec__"] = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)
            if "__spec__" not in saved:
                main.__dict__.pop("__spec__", None)


class WorkerDied(WorkloadError):
    """A variant's worker process ended without answering (crash, out of memory, killed)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.variant = name


def start_method(device: str = "cpu") -> str:
    """How a worker for ``device`` starts: ``forkserver`` on Linux for the CPU, else ``spawn``
    (a fresh interpreter): a GPU worker must not inherit a process that may have asked CUDA
    anything, macOS's system libraries are not safe to fork, and ``JOULEBENCH_SPAWN=1``
    asks for spawn everywhere."""
    if os.environ.get(SPAWN_ENV, "") not in ("", "0"):
        return "spawn"
    if not sys.platform.startswith("linux") or device != "cpu":
        return "spawn"
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def _context(device: str) -> BaseContext:
    context = mp.get_context(start_method(device))
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload([PRELOAD])
    return context


@contextlib.contextmanager
def _server_environment(job: WorkerJob) -> Iterator[None]:
    """While a process starts (the fork server with the first worker): one thread per pool,
    so the server imports numpy and torch without starting thread pools (it forks every
    worker, and forking a process with threads risks the child; each worker sets its own),
    and whether it should import transformers' model code (the first variant needs it)."""
    wanted = dict.fromkeys(THREAD_VARIABLES, "1")
    wanted[PRELOAD_ENV] = "1" if job.spec.backend in TOKENISING else "0"
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Worker:
    """The parent's handle on one variant's worker process."""

    def __init__(self, job: WorkerJob) -> None:
        self.job = job
        self.name = job.spec.name
        context = _context(job.device)
        self._conn, child = context.Pipe()
        self.process = context.Process(
            target=worker_main, args=(child, job), name=f"joulebench-{self.name}", daemon=True
        )
        with _main_module_hidden(), _server_environment(job):
            self.process.start()
        child.close()

    @property
    def pid(self) -> int | None:
        """The worker's process id."""
        return self.process.pid

    def _died(self) -> WorkerDied:
        self.process.join(5.0)
        code = self.process.exitcode
        hint = " (killed: out of memory?)" if code is not None and code < 0 else ""
        return WorkerDied(
            self.name,
            f"the worker of variant {self.name!r} died with exit code {code}{hint}; "
            "the other variants are kept: rerun this one alone to see why",
        )

    def _receive(self, expect: str, timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        while not self._conn.poll(POLL_S):
            if not self.process.is_alive():
                raise self._died()
            if time.monotonic() > deadline:
                raise WorkerDied(
                    self.name,
                    f"the worker of variant {self.name!r} did not answer in {timeout_s:.0f} s",
                )
        try:
            kind, payload = self._conn.recv()
            while kind == "done" and expect != "done":  # a batch run cut short by Ctrl-C
                kind, payload = self._conn.recv()
        except (EOFError, OSError):
            raise self._died() from None
        if kind == "error":
            raise VariantError(
                payload.splitlines()[0] if payload else f"variant {self.name!r} failed"
            )
        if kind != expect:
            raise WorkerDied(
                self.name, f"worker of {self.name!r} answered {kind!r}, not {expect!r}"
            )
        return payload

    def ready(self, timeout_s: float = READY_TIMEOUT_S) -> WorkerReady:
        """Wait until the model is loaded and scored."""
        return self._receive("ready", timeout_s)

    def run(self, n: int, phase: str = PHASE_FULL) -> WorkDone:
        """Run ``n`` batches in the worker (``phase``: full work, or a generation's prefill);
        return the items they held and their times."""
        try:
            self._conn.send(("run", n, phase))
        except OSError:
            raise self._died() from None
        return self._receive("done", READY_TIMEOUT_S)

    def memory(self) -> dict[str, int | None]:
        """The worker's peak resident memory, and peak GPU memory (None without CUDA)."""
        self._conn.send(("memory",))
        return self._receive("memory", 60.0)

    def close(self) -> None:
        """Stop the worker (politely, then by force)."""
        if self.process.is_alive():
            with contextlib.suppress(OSError):  # already gone
                self._conn.send(("stop",))
            self.process.join(5.0)
            if self.process.is_alive():
                self.process.kill()
                self.process.join(5.0)
        self._conn.close()
