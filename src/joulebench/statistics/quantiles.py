"""Student-t quantiles, with scipy imported when first needed: ``scipy.stats`` takes about a
second to import, which every command and worker process would otherwise pay at start-up."""

from __future__ import annotations


def t_quantile(probability: float, dof: float) -> float:
    """The ``probability`` quantile of Student's t with ``dof`` degrees of freedom (scipy)."""
    from scipy import stats

    return float(stats.t.ppf(probability, dof))
