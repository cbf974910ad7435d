"""Experiment files (TOML) -> validated, frozen settings. Relative paths are resolved against
the file's folder. An unknown key or a wrong type is one line naming the file, the key and the
fix.

Example::

    [task]
    data = "bbc-news"            # or a CSV/TSV/JSONL file with text and label columns
    max_test = 500

    [[variants]]
    name = "base"
    path = "runs/base"           # a transformers folder (safetensors)

    [[variants]]
    name = "int8"
    method = "int8"
    parent = "base"
    path = "runs/base"
    recipe = { quantize = "dynamic-int8" }

    [[variants]]
    name = "onnx"
    method = "onnx"
    backend = "onnxruntime"
    path = "runs/onnx"

    [[variants]]                 # any Python callable: batch of inputs -> predictions
    name = "my-cnn"
    family = "cnn"
    function = "mypackage.models:predict"     # or "models.py:predict", next to this file
    batch_size = 64

Image and array tasks: ``data = "digits"`` (built in), a folder of class folders of images,
or a ``.npz`` file with arrays ``x`` and ``y``. A task of your own:
``metric = "mymetrics.py:map50"`` (``metric(predictions, labels) -> float``) with
``higher_is_better``; ``test_fraction = 1.0`` scores every example.

    [meter]
    name = "auto"

    [protocol]
    windows = 5

    [run]
    batch_size = 32
    battery = "phone"
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from joulebench.devices.registry import check_meter_name
from joulebench.errors import UserError
from joulebench.harness.settings import ProtocolSettings
from joulebench.statistics.bootstrap import check_resamples
from joulebench.variants.spec import VariantSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


BUILTIN_DATA = ("bbc-news", "digits")


class TaskConfig(_Frozen):
    """The data, the held-out split, and the metric when it is not a classifier's."""

    data: str = Field(
        description="'bbc-news', 'digits', a CSV/TSV/JSONL/JSON file of texts, a .npz file "
        "(x, y) or a folder of class folders of images"
    )
    text_column: str = "text"
    label_column: str = "label"
    labels: list[str] | None = None
    image_size: tuple[int, int] | None = None
    metric: str | None = Field(None, description="'module:function' scoring predictions")
    metric_name: str | None = None
    higher_is_better: bool = True
    bootstrap: int | None = Field(
        None, ge=0, description="resamples for the metric's BCa interval (0: none; >= 2000)"
    )
    test_fraction: float = Field(0.25, gt=0, le=1)
    max_test: int | None = Field(None, gt=0)
    max_train: int | None = Field(None, gt=0)
    seed: int = 0
    kind: Literal["classify", "generate"] = Field(
        "classify",
        description="'generate': a causal LM continues prompts (perplexity, J per token)",
    )
    prompts: int = Field(8, gt=0, description="generate: prompts drawn from the data")
    documents: int = Field(16, ge=2, description="generate: held-out texts for perplexity")
    prompt_tokens: int = Field(32, gt=0, description="generate: every prompt cut to this")
    max_new_tokens: int = Field(32, gt=0, description="generate: tokens each request makes")
    ppl_tokens: int = Field(128, ge=2, description="generate: each document cut to this")
    kv_cache: bool = True
    reference_column: str | None = Field(
        None, description="generate with a metric: the column of each prompt's reference"
    )

    @field_validator("bootstrap")
    @classmethod
    def _enough_resamples(cls, resamples: int | None) -> int | None:
        check_resamples(resamples)
        return resamples


class MeterConfig(_Frozen):
    """Which meter, and the options of particular meters."""

    name: str = "auto"

    @field_validator("name")
    @classmethod
    def _known(cls, name: str) -> str:
        return check_meter_name(name)

    cpu_watts: float | None = Field(None, ge=0)
    idle_watts: float | None = Field(None, ge=0)
    sim_watts: float | None = Field(None, ge=0)
    gpus: list[int] | None = None

    def options(self) -> dict[str, object]:
        """Constructor options for this meter."""
        name = self.name.lower()
        options: dict[str, object] = {}
        if name in ("estimate", "auto"):
            if self.cpu_watts is not None:
                options["cpu_w_per_core"] = self.cpu_watts
            if self.idle_watts is not None:
                options["idle_w"] = self.idle_watts
        if name == "simulated" and self.sim_watts is not None:
            options["power_w"] = self.sim_watts
        if name == "nvml" and self.gpus is not None:
            options["devices"] = self.gpus
        return options


class RunConfig(_Frozen):
    """How variants are run: the same for every variant, and recorded."""

    batch_size: int = Field(32, gt=0)
    batch_sizes: list[int] | None = Field(
        None,
        description="a batch-size sweep: every variant measured once per size, as rows "
        "'<name>@b<size>' (a variant's own batch_size is then replaced)",
    )
    threads: int | None = Field(None, gt=0)
    device: str = "cpu"
    max_length: int = Field(128, gt=0)
    battery: str = "phone"
    repeat: int = Field(
        1,
        ge=1,
        le=100,
        description="independent runs (fresh worker processes each); 3 or more give "
        "run-to-run spread for compare",
    )

    @field_validator("batch_sizes")
    @classmethod
    def _sweep(cls, sizes: list[int] | None) -> list[int] | None:
        if sizes is not None and (not sizes or any(n <= 0 for n in sizes)):
            raise ValueError("batch_sizes must list whole numbers > 0, e.g. [1, 4, 8]")
        if sizes is not None and len(set(sizes)) != len(sizes):
            raise ValueError(f"batch_sizes {sizes} repeats a size")
        return sizes


class TargetConfig(_Frozen):
    """Which machines of a fleet one job may run on: every variant of the experiment is
    measured once on one machine that has these node labels and custom resources."""

    name: str | None = Field(None, description="the job's name (default: from the labels)")
    labels: dict[str, str] = Field(
        default_factory=dict, description='node labels, e.g. {"joulebench/meter" = "nvml"}'
    )
    resources: dict[str, float] = Field(
        default_factory=dict, description="custom resources the machine must advertise"
    )
    constraint: str | None = Field(
        None, description="slurm: the node features the job needs (sbatch --constraint)"
    )

    def title(self, index: int) -> str:
        """The job's name: its own, else from its labels and resources, else its number."""
        if self.name:
            return self.name
        parts = [f"{k}={v}" for k, v in self.labels.items()] + list(self.resources)
        parts += [self.constraint] if self.constraint else []
        return ",".join(parts) or f"job-{index + 1}"


class ExecutorConfig(_Frozen):
    """Where the experiment runs: here (``local``, the default), on a Ray cluster or on Slurm."""

    kind: Literal["local", "ray", "slurm"] = "local"
    address: str = Field("auto", description="the Ray cluster's address (ray: 'auto' finds it)")
    folder: str = Field(
        "slurm-jobs",
        description="slurm: submitit's folder for jobs and their logs, shared by the nodes",
    )
    partition: str | None = Field(None, description="slurm: the partition (sbatch -p)")
    timeout_min: int = Field(240, gt=0, description="slurm: each job's time limit, minutes")
    cluster: Literal["slurm", "local"] | None = Field(
        None,
        description="slurm: None finds Slurm; 'local' runs the jobs as local processes, one "
        "after another (a test, or one machine)",
    )
    targets: list[TargetConfig] = Field(
        default_factory=list,
        description="one job per target, each on one machine that matches (default: one job "
        "on any machine with a joulebench_slot)",
    )
    journal_dir: str | None = Field(
        None, description="where each machine journals its windows (default: its state folder)"
    )


class Experiment(_Frozen):
    """A whole experiment file."""

    task: TaskConfig
    variants: list[VariantSpec] = Field(min_length=1)
    meter: MeterConfig = MeterConfig()
    protocol: ProtocolSettings = ProtocolSettings()
    run: RunConfig = RunConfig()
    executor: ExecutorConfig = ExecutorConfig()

    def run_options(self) -> dict[str, Any]:
        """The keywords ``run_variants`` takes from this experiment: meter, run settings and
        the protocol (the same for ``joulebench run`` here and a fleet's job)."""
        return {
            "meter": self.meter.name,
            "meter_options": self.meter.options(),
            "batch_size": self.run.batch_size,
            "threads": self.run.threads,
            "device": self.run.device,
            "max_length": self.run.max_length,
            **self.protocol.model_dump(),
        }

    @model_validator(mode="after")
    def _names_unique_and_parents_known(self) -> Experiment:
        names = [v.name for v in self.variants]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"variant name {duplicates[0]!r} is used twice; names must be unique")
        for variant in self.variants:
            if variant.parent is not None and variant.parent not in names:
                raise ValueError(
                    f"variant {variant.name!r} names parent {variant.parent!r}, which is not "
                    f"a variant here (variants: {', '.join(names)})"
                )
        return self


def _where(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _explain(path: Path, exc: ValidationError) -> str:
    # a misspelt key also makes the right one "missing": name the misspelling first
    error = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    where = _where(error["loc"])
    more = f" ({len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
    if error["type"] == "extra_forbidden":
        return (
            f"{path}: unknown key {where!r}; check its spelling against the documented keys{more}"
        )
    if error["type"] == "missing":
        return f"{path}: missing key {where!r}; add it{more}"
    return f"{path}: {where}: {error['msg']} (got {error.get('input')!r}){more}"


def _path(text: str, folder: Path) -> str:
    candidate = Path(text).expanduser()
    return str(candidate if candidate.is_absolute() else folder / candidate)


def _reference(text: str, folder: Path) -> str:
    """``file.py:function`` relative to the experiment's folder; ``module:function`` as is."""
    module, sep, attribute = text.rpartition(":")
    return f"{_path(module, folder)}:{attribute}" if sep and module.endswith(".py") else text


def _resolve(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    for variant in raw.get("variants", []) or []:
        if not isinstance(variant, dict):
            continue
        if isinstance(variant.get("path"), str):
            variant["path"] = _path(variant["path"], folder)
        for key in ("function", "loader"):
            if isinstance(variant.get(key), str):
                variant[key] = _reference(variant[key], folder)
        if isinstance(variant.get("files"), list):
            variant["files"] = [_path(f, folder) if isinstance(f, str) else f
                                for f in variant["files"]]  # fmt: skip
    task = raw.get("task")
    if isinstance(task, dict):
        if isinstance(task.get("data"), str) and task["data"] not in BUILTIN_DATA:
            task["data"] = _path(task["data"], folder)
        if isinstance(task.get("metric"), str):
            task["metric"] = _reference(task["metric"], folder)
    return raw


def load_experiment(path: Path | str) -> Experiment:
    """Read and validate an experiment file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"experiment file {path} does not exist") from None
    except OSError as exc:
        raise UserError(f"cannot read experiment file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML: {exc}") from None
    try:
        return Experiment(**_resolve(raw, path.resolve().parent))
    except ValidationError as exc:
        raise UserError(_explain(path, exc)) from None
