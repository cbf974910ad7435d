"""Per-token figures of a generation run, derived from its two kinds of windows.

A generation variant is measured in two interleaved kinds of window: **full** (each request
generates all ``new_tokens`` tokens) and **prefill** (each request reads its prompt and
produces one token). Per request, decode = full - prefill, spread over the ``new_tokens - 1``
tokens after the first; prefill per prompt token = prefill / ``prompt_tokens``.

The two means come from different windows, so the difference's 95% interval is Welch's:
standard errors added in quadrature, Welch–Satterthwaite degrees of freedom (both means from
Student-t intervals over windows, or over run means with ``--repeat``). Windows of the same
round share the machine's drift, which makes the two means positively correlated: Welch then
overstates the difference's variance (conservative), never understates it. After an adaptive
stop (Stein's interval) the two half-widths are added in quadrature instead (conservative too).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from joulebench.harness.latency import latency_from_windows, percentiles
from joulebench.harness.result import MeasureResult
from joulebench.harness.stats import Summary
from joulebench.statistics.quantiles import t_quantile

T_INTERVALS = ("student-t", "between-runs")
"""Intervals that are a t interval of ``n`` values' mean with their sample ``std``."""
WELCH = "welch"
QUADRATURE = "quadrature"


@dataclass(frozen=True, slots=True)
class Difference:
    """A difference of two independent means (scaled), with its 95% half-width."""

    mean: float
    ci95: float
    dof: float | None
    interval: str

    @property
    def low(self) -> float:
        """Lower end of the 95% interval."""
        return self.mean - self.ci95

    @property
    def high(self) -> float:
        """Upper end of the 95% interval."""
        return self.mean + self.ci95

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return asdict(self)


def difference(a: Summary, b: Summary, scale: float = 1.0) -> Difference:
    """``(a - b) * scale`` with a 95% interval: Welch's where both are t intervals, else the
    two half-widths in quadrature."""
    mean = (a.mean - b.mean) * scale
    if a.interval in T_INTERVALS and b.interval in T_INTERVALS and a.n >= 2 and b.n >= 2:
        va, vb = a.std**2 / a.n, b.std**2 / b.n
        se = math.sqrt(va + vb)
        if se == 0:
            return Difference(mean, 0.0, None, WELCH)
        dof = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
        return Difference(mean, t_quantile(0.975, dof) * se * abs(scale), dof, WELCH)
    return Difference(mean, math.hypot(a.ci95, b.ci95) * abs(scale), None, QUADRATURE)


@dataclass(frozen=True)
class TokenFigures:
    """What a generation variant costs per request and per token, and how fast it answers.

    Energy in J (gross: what drains a battery; net: minus idle power x time, None where the
    run has none). ``decode_token_j``: per output token after the first; ``prefill_token_j``:
    per prompt token (the prefill window's one new token included). TTFT: a batch's time to
    its first token (prefill windows); TPOT: per full batch, (its time - median TTFT) /
    (new tokens - 1). A percentile is None where too few batches back it.
    """

    prompt_tokens: int
    new_tokens: int
    batch_size: int
    request_j: Summary
    prefill_request_j: Summary
    prefill_token_j: Summary
    decode_token_j: Difference | None
    net_prefill_token_j: Summary | None
    net_decode_token_j: Difference | None
    ttft_p50_s: float | None
    ttft_p95_s: float | None
    tpot_p50_s: float | None
    tpot_p95_s: float | None
    output_tokens_per_s: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON."""
        return asdict(self)


def token_figures(
    full: MeasureResult, prefill: MeasureResult, prompt_tokens: int, new_tokens: int,
    batch_size: int,
) -> TokenFigures:  # fmt: skip
    """Per-token figures from a variant's full and prefill measurements (per request each)."""
    decode_tokens = new_tokens - 1
    decode = net_decode = None
    net_full, net_prefill = full.net_energy_per_item_j, prefill.net_energy_per_item_j
    if decode_tokens >= 1:
        decode = difference(full.energy_per_item_j, prefill.energy_per_item_j, 1.0 / decode_tokens)
        if net_full is not None and net_prefill is not None:
            net_decode = difference(net_full, net_prefill, 1.0 / decode_tokens)
    ttft = latency_from_windows(prefill.windows, batch_size)
    tpot = {50: None, 95: None}
    if decode_tokens >= 1 and ttft.p50_s is not None:
        full_batches = [
            (t - ttft.p50_s) / decode_tokens
            for w in full.windows
            for t, k in zip(w.latencies_s, w.latency_items, strict=True)
            if k == batch_size
        ]
        found = percentiles(full_batches) if full_batches else {}
        tpot = {q: found.get(q) for q in tpot}
    rates = [w.items * new_tokens / w.duration_s for w in full.windows if w.duration_s > 0]
    return TokenFigures(
        prompt_tokens=prompt_tokens,
        new_tokens=new_tokens,
        batch_size=batch_size,
        request_j=full.energy_per_item_j,
        prefill_request_j=prefill.energy_per_item_j,
        prefill_token_j=prefill.energy_per_item_j.scaled(1 / prompt_tokens),
        decode_token_j=decode,
        net_prefill_token_j=None if net_prefill is None else net_prefill.scaled(1 / prompt_tokens),
        net_decode_token_j=net_decode,
        ttft_p50_s=ttft.p50_s,
        ttft_p95_s=ttft.p95_s,
        tpot_p50_s=tpot[50],
        tpot_p95_s=tpot[95],
        output_tokens_per_s=float(np.mean(rates)) if rates else math.nan,
    )
