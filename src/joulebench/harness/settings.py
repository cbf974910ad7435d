"""The measurement protocol's settings, validated (pydantic) and frozen."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from joulebench.errors import UserError


class ProtocolSettings(BaseModel):
    """How windows are taken. Defaults follow DESIGN.md's measurement protocol."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    windows: int = Field(5, ge=2, description="windows per workload (>= 5 recommended)")
    min_window_s: float | None = Field(
        None, gt=0, description="shortest window; None = the meter's default (RAPL 2 s, NVML 10 s)"
    )
    warmup_calls: int = Field(10, ge=0, description="calls before measuring (at least)")
    warmup_s: float = Field(3.0, ge=0, description="seconds of warm-up (at least)")
    sleep_max_s: float = Field(0.2, ge=0, description="random 0..this sleep before each window")
    settle_s: float = Field(
        0.0, ge=0, description="fixed pause before each window, on top of the random sleep"
    )
    idle: bool = Field(True, description="measure idle power in the same run, for net figures")
    target_ci: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="plan windows for ci95/mean <= this (e.g. 0.02), by Stein's two-stage rule",
    )
    pilot_windows: int | None = Field(
        None,
        ge=3,
        description="pilot windows of the adaptive stop (None = max(windows, 10)); a short "
        "pilot makes t large, so it suits a loose target (the demo: 5 windows for 5%)",
    )
    max_time_s: float = Field(600.0, gt=0, description="time cap for the adaptive stop")
    max_windows: int = Field(200, ge=2, description="window cap per workload, adaptive stop")
    max_discarded_windows: int = Field(5, ge=0, description="invalid windows tolerated per run")
    max_foreign_cores: float | None = Field(
        0.5,
        ge=0,
        description="a window during which other processes kept more CPU cores than this busy "
        "(on average), or that shared the measured GPU, is contaminated: retaken, and flagged "
        'if kept; None ("off" in a file) = record the load, judge nothing',
    )
    contaminated_retakes: int = Field(
        2, ge=0, description="retakes of a contaminated window before it is kept, flagged"
    )
    drift_freq_frac: float = Field(0.10, gt=0, description="CPU/GPU clock change flagged as drift")
    drift_temp_c: float = Field(10.0, gt=0, description="temperature rise flagged as drift")
    seed: int | None = Field(
        None, description="seed of the window order and pre-window sleeps (drawn and kept if None)"
    )

    @field_validator("max_foreign_cores", mode="before")
    @classmethod
    def _off_is_none(cls, value: Any) -> Any:
        """TOML has no null: ``max_foreign_cores = "off"`` turns the judgement off."""
        if isinstance(value, str) and value.strip().lower() == "off":
            return None
        return value

    @model_validator(mode="after")
    def _pilot_needs_a_target(self) -> ProtocolSettings:
        if self.pilot_windows is not None and self.target_ci is None:
            raise ValueError(
                "pilot_windows is the pilot of the adaptive stop: give target_ci too "
                "(e.g. --target-ci 5%), or leave pilot_windows out"
            )
        return self


def make_settings(**values: Any) -> ProtocolSettings:
    """Validate settings; a bad value is one line naming the setting and what it must be."""
    try:
        return ProtocolSettings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        raise UserError(
            f"setting {name}={error.get('input')!r}: {error['msg']} "
            f"({len(exc.errors())} problem(s) in all)"
        ) from None
