"""The methods section's sentences for a generation run (``tasks.generation``): what one
request is, the two kinds of window, and how the per-token figures and perplexity were made."""

from __future__ import annotations

from typing import Any

from joulebench.reports.prose import join, plural


def is_generation(document: dict[str, Any]) -> bool:
    """True for a run of a generation task."""
    return (document.get("task") or {}).get("kind") == "generate"


def task_text(task: dict[str, Any]) -> str:
    """The prompts, the lengths and the decoding every variant shared."""
    cache = "on" if task.get("kv_cache", True) else "off (each step recomputes the sequence)"
    text = (
        f"Each of the {plural(int(task.get('test') or 0), 'prompt')} was cut to its first "
        f"{task.get('prompt_tokens')} tokens and continued with exactly "
        f"{task.get('max_new_tokens')} new tokens by {task.get('decoding', 'greedy')} decoding "
        f"(the end-of-text token suppressed until then, so every variant did the same work; "
        f"key/value cache {cache}). Perplexity was scored on "
        f"{plural(int(task.get('documents') or 0), 'held-out document')}, each cut to "
        f"{task.get('ppl_tokens')} tokens, none of them a prompt"
    )
    if task.get("train"):
        text += f"; {plural(int(task['train']), 'other text')} were available to builders"
    text += "."
    if task.get("user_metric"):
        text += (
            f" The generated texts were also scored by {task['user_metric']} against each "
            "prompt's reference."
        )
    return text


PROTOCOL = (
    "One request is one prompt, and energy and time per request divide each window by the "
    "prompts it ran. Each variant was measured in two kinds of window, interleaved in the same "
    "shuffled rounds: full generations, and prefill only (each request reads its prompt and "
    "makes one token)."
)


def statistics_text(variants: list[dict[str, Any]]) -> list[str]:
    """How perplexity's interval and the per-token figures were made."""
    documents = sorted({int((v.get("metrics") or {}).get("perplexity", {}).get("n") or 0)
                        for v in variants})  # fmt: skip
    paragraphs = [
        "Perplexity is exp(total negative log-likelihood / total predicted tokens) over the "
        f"{' / '.join(str(d) for d in documents)} held-out documents; its 95% interval is a "
        "Student-t interval of log-perplexity, a ratio of per-document sums, with the ratio "
        "estimator's delta-method standard error and D - 1 degrees of freedom, turned back "
        "with exp.",
        "Energy per output token is (full - prefill) energy per request divided by the new "
        "tokens after the first, with Welch's interval[[cite:welch1947]] (Welch-Satterthwaite "
        "degrees of freedom[[cite:satterthwaite1946]]) over the two kinds of window; windows of "
        "one round share drift, which makes it conservative. Energy per prompt token is the "
        "prefill energy per request divided by the prompt's tokens. Time to first token is a "
        "prefill batch's time; time per output token is a full batch's time less the median "
        "time to first token, divided by the new tokens after the first.",
    ]
    lengths = sorted({int((v.get("generation") or {}).get("new_tokens") or 0) for v in variants})
    if lengths and lengths != [0]:
        paragraphs.append(
            "Responses per charge count responses of "
            f"{join([str(n) for n in lengths])} output tokens; tokens per charge multiply them "
            "by that length."
        )
    return paragraphs
