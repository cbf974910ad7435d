"""Generation: a causal language model continues fixed prompts, and is scored by perplexity.

Every variant does the same work: each prompt is cut to the same ``prompt_tokens`` tokens,
and decoding is greedy with exactly ``max_new_tokens`` new tokens (the end-of-text token is
suppressed until then), so a request costs the same number of forward passes on every variant.
Quality is measured on each variant's own weights: perplexity over held-out documents (none of
them a prompt), with a 95% interval over documents (:func:`perplexity_interval`), lower is
better; optionally the user's own ``metric(generations, references)`` over the generated texts
(BCa bootstrap over prompts).

The worker computes what it needs from the model (per-document negative log-likelihoods, the
generations); :meth:`Generation.score` turns them into scores here, in the parent.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from joulebench.errors import UserError
from joulebench.statistics.bootstrap import bca_interval, check_resamples
from joulebench.statistics.quantiles import t_quantile
from joulebench.tasks.generic import Metric, metric_name_of, metric_score
from joulebench.tasks.metrics import Score, Scores

PERPLEXITY = "perplexity"
DECODING = "greedy"


@dataclass(frozen=True)
class GenerationData:
    """The prompts every variant continues, the held-out documents it is scored on, and the
    references a user's metric compares the generations with (None without a metric)."""

    prompts: tuple[str, ...]
    documents: tuple[str, ...]
    references: tuple[Any, ...] | None
    source: str

    @property
    def inputs(self) -> tuple[str, ...]:
        """The prompts (what one request is)."""
        return self.prompts

    @property
    def labels(self) -> tuple[Any, ...]:
        """The references (empty without a metric)."""
        return self.references or ()

    def __len__(self) -> int:
        return len(self.prompts)


@dataclass(frozen=True)
class GenerationSplit:
    """Texts a builder may train or calibrate on, and the held-out prompts and documents."""

    train: tuple[str, ...]
    test: GenerationData


@dataclass(frozen=True)
class GenerationOutput:
    """What a worker returns for scoring: per held-out document, the summed negative
    log-likelihood (nats) of its predicted tokens and their count; the generations (one text
    per prompt) when a metric needs them."""

    nll: tuple[float, ...]
    tokens: tuple[int, ...]
    texts: tuple[str, ...] | None = None


def perplexity(nll: Sequence[float], tokens: Sequence[int]) -> float:
    """exp(total negative log-likelihood / total tokens): the corpus perplexity, in which a
    long document weighs by its tokens (as a language-model evaluation reports it)."""
    total = float(np.sum(tokens))
    if total <= 0:
        raise UserError("perplexity needs at least one predicted token; give longer documents")
    return math.exp(float(np.sum(nll)) / total)


def perplexity_interval(nll: Sequence[float], tokens: Sequence[int]) -> tuple[float, float]:
    """The 95% interval of the corpus perplexity over documents.

    Log-perplexity is a ratio, total loss / total tokens, of per-document sums; its standard
    error is the ratio estimator's (delta method: the spread of ``nll_i - r x tokens_i``) and
    the interval is Student t with D - 1 degrees of freedom, turned back with exp. In seeded
    simulation (bench/bench_generation.py) it covers about 95% from 4 documents up, where the
    BCa bootstrap covered 87% at 8 documents and 91% at 16.
    """
    a = np.asarray(nll, dtype=float)
    b = np.asarray(tokens, dtype=float)
    count = a.size
    if count < 2:
        raise UserError("a perplexity interval needs at least 2 documents")
    ratio = float(a.sum() / b.sum())
    se = float(np.std(a - ratio * b, ddof=1)) / math.sqrt(count) / float(b.mean())
    half = t_quantile(0.975, count - 1) * se
    return math.exp(ratio - half), math.exp(ratio + half)


def _text_sha256(*parts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        for text in part:
            digest.update(text.encode("utf-8"))
            digest.update(b"\0")
        digest.update(b"\1")
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class Generation:
    """Prompts to continue and held-out documents to score perplexity on.

    ``prompt_tokens``: every prompt is cut to this many tokens (a shorter prompt is refused);
    ``max_new_tokens``: the tokens each request generates (greedy, never fewer);
    ``ppl_tokens``: each document is cut to this many tokens for perplexity.
    ``metric(generations, references) -> float`` (optional) scores the generated texts, with
    its direction; its interval is a BCa bootstrap over prompts. ``train``: texts a builder
    may fine-tune or calibrate on (never a prompt or a scored document). ``kv_cache``: decode
    with the key/value cache (the default, as deployed) or recompute the whole sequence.
    """

    prompts: tuple[str, ...]
    documents: tuple[str, ...]
    max_new_tokens: int = 32
    prompt_tokens: int = 32
    ppl_tokens: int = 128
    metric: Metric | None = None
    references: tuple[Any, ...] | None = None
    metric_name: str | None = None
    higher_is_better: bool = True
    train: tuple[str, ...] = ()
    kv_cache: bool = True
    bootstrap: int | None = None
    seed: int = 0
    source: str = "texts"
    name: str = "generation"

    def __post_init__(self) -> None:
        for what, value in (
            ("max_new_tokens", self.max_new_tokens),
            ("prompt_tokens", self.prompt_tokens),
            ("ppl_tokens", self.ppl_tokens),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise UserError(f"{what} must be a whole number > 0, got {value!r}")
        if self.ppl_tokens < 2:
            raise UserError("ppl_tokens must be at least 2 (one token predicts the next)")
        if not self.prompts:
            raise UserError("a generation task needs at least one prompt")
        if len(self.documents) < 2:
            raise UserError(
                f"a generation task needs at least 2 held-out documents for perplexity and its "
                f"interval, got {len(self.documents)}"
            )
        for index, text in enumerate((*self.prompts, *self.documents)):
            if not isinstance(text, str) or not text.strip():
                raise UserError(
                    f"prompt or document {index + 1} is {text!r}: every prompt and document "
                    "must be a non-empty text"
                )
        if self.metric is not None:
            if not callable(self.metric):
                raise UserError(
                    f"metric must be a function (generations, references) -> float, not "
                    f"{self.metric!r}"
                )
            if self.references is None or len(self.references) != len(self.prompts):
                count = "none" if self.references is None else len(self.references)
                raise UserError(
                    f"a metric needs one reference per prompt: {len(self.prompts)} prompts, "
                    f"{count} references"
                )
        overlap = set(self.prompts) & set(self.documents) or set(self.train) & set(self.documents)
        if overlap:
            raise UserError(
                f"{len(overlap)} scored document(s) are also prompts or training texts; "
                "perplexity must be measured on held-out text"
            )
        try:
            check_resamples(self.bootstrap)
        except ValueError as exc:
            raise UserError(str(exc)) from None

    @property
    def score_name(self) -> str:
        """The primary score's name: perplexity."""
        return PERPLEXITY

    @property
    def user_metric_name(self) -> str | None:
        """The user's metric's name, if there is one."""
        if self.metric is None:
            return None
        return self.metric_name or metric_name_of(self.metric)

    def split(self) -> GenerationSplit:
        """The training texts and the held-out prompts and documents (fixed: given as such)."""
        return GenerationSplit(
            self.train,
            GenerationData(self.prompts, self.documents, self.references, self.source),
        )

    def score(self, predictions: Any, test: GenerationData) -> Scores:
        """Perplexity over the documents (95% interval over documents; bootstrap replicates
        for paired comparisons unless ``bootstrap=0``), and the user's metric over the
        generations where there is one."""
        if not isinstance(predictions, GenerationOutput):
            raise UserError(
                f"a generation task scores a causal language model's output, not "
                f"{type(predictions).__name__}; run a torch causal-LM variant on it"
            )
        nll = np.asarray(predictions.nll, dtype=float)
        tokens = np.asarray(predictions.tokens, dtype=float)
        if len(nll) != len(test.documents) or len(tokens) != len(nll):
            raise UserError(
                f"{len(nll)} document scores for {len(test.documents)} documents; the variant "
                "must score every held-out document"
            )
        if not np.all(np.isfinite(nll)):
            raise UserError(
                "a document's log-likelihood is not finite (the model's logits overflowed?); "
                "check the variant's weights"
            )
        value = perplexity(nll, tokens)
        test_set = _text_sha256(test.documents)

        def statistic(index: np.ndarray) -> float:
            return math.exp(float(nll[index].sum()) / max(float(tokens[index].sum()), 1.0))

        low, high = perplexity_interval(nll, tokens)
        replicates = None
        if self.bootstrap != 0:  # resamples for compare's paired test of two variants
            _, _, replicates = bca_interval(
                statistic, len(nll), seed=self.seed, resamples=self.bootstrap, test_set=test_set
            )
        metrics = {PERPLEXITY: Score(PERPLEXITY, value, low, high, False, len(nll))}
        name = self.user_metric_name
        if name is not None and self.metric is not None:
            metrics[name] = self._user_score(name, predictions.texts, test)
        return Scores(metrics, replicates=replicates)

    def _user_score(self, name: str, texts: tuple[str, ...] | None, test: GenerationData) -> Score:
        assert self.metric is not None
        if texts is None or len(texts) != len(test.prompts):
            raise UserError(
                f"metric {name!r} needs one generation per prompt; the variant returned "
                f"{0 if texts is None else len(texts)} for {len(test.prompts)} prompts"
            )
        score, _ = metric_score(
            self.metric, name, list(texts), list(test.labels),
            higher_is_better=self.higher_is_better, seed=self.seed, bootstrap=self.bootstrap,
            test_set=lambda: _text_sha256(test.prompts),
        )  # fmt: skip
        return score

    def describe(self) -> dict[str, Any]:
        """The task as recorded in a results document: every length and setting a per-token
        energy figure needs to be reproduced."""
        return {
            "name": self.name,
            "kind": "generate",
            "data": self.source,
            "train": len(self.train),
            "test": len(self.prompts),
            "documents": len(self.documents),
            "metric": PERPLEXITY,
            "higher_is_better": False,
            "user_metric": self.user_metric_name,
            "prompt_tokens": self.prompt_tokens,
            "max_new_tokens": self.max_new_tokens,
            "min_new_tokens": self.max_new_tokens,
            "ppl_tokens": self.ppl_tokens,
            "decoding": DECODING,
            "kv_cache": self.kv_cache,
            "test_set_sha256": _text_sha256(self.prompts, self.documents),
        }


def from_texts(
    texts: Sequence[str],
    *,
    prompts: int = 8,
    documents: int = 16,
    train: int = 0,
    references: Sequence[Any] | None = None,
    seed: int = 0,
    source: str = "texts",
    **options: Any,
) -> Generation:
    """A generation task from a pool of texts: ``prompts`` of them to continue (each cut to its
    first ``prompt_tokens`` tokens by the variant's tokenizer), ``documents`` others held out
    for perplexity, and up to ``train`` more for builders; chosen at random (seeded), disjoint.
    ``references`` (one per text) go with the texts chosen as prompts, for a ``metric``.
    """
    if references is not None and len(references) != len(texts):
        raise UserError(f"{len(texts)} texts but {len(references)} references; give one each")
    first: dict[str, int] = {}
    for index, text in enumerate(texts):
        if isinstance(text, str) and text.strip():
            first.setdefault(text.strip(), index)
    pool = list(first)
    need = prompts + documents + train
    if prompts < 1 or documents < 2 or train < 0:
        raise UserError(
            f"need prompts >= 1, documents >= 2 and train >= 0; got {prompts}, {documents}, {train}"
        )
    if len(pool) < need:
        raise UserError(
            f"{source} has {len(pool)} distinct texts; {prompts} prompts + {documents} documents "
            f"+ {train} training texts need {need}: lower the counts or give more texts"
        )
    order = np.random.default_rng(seed).permutation(len(pool)).tolist()
    chosen = [pool[i] for i in order]
    kept = (
        None if references is None else tuple(references[first[text]] for text in chosen[:prompts])
    )
    return Generation(
        prompts=tuple(chosen[:prompts]),
        documents=tuple(chosen[prompts : prompts + documents]),
        train=tuple(chosen[prompts + documents : need]),
        references=kept,
        seed=seed,
        source=source,
        **options,
    )
