"""The methods section's sections rendered as Markdown (author-year citations and a reference
list) or LaTeX (``\\cite`` into a BibTeX file); the text holds ``[[cite:key]]`` markers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from joulebench.reports.citations import WORKS
from joulebench.reports.formats import latex_escape

CITE = re.compile(r"\[\[cite:([a-z0-9,]+)\]\]")


@dataclass
class Section:
    """A heading and its paragraphs (a paragraph of several lines is a bulleted list)."""

    title: str
    paragraphs: list[str | list[str]] = field(default_factory=list)


def flat(sections: Iterable[Section]) -> str:
    """Every paragraph and list line of ``sections`` as one string."""
    parts: list[str] = []
    for section in sections:
        for paragraph in section.paragraphs:
            parts.extend(paragraph if isinstance(paragraph, list) else [paragraph])
    return " ".join(parts)


def _cite_markdown(text: str) -> str:
    return CITE.sub(
        lambda m: " (" + "; ".join(WORKS[k].cite for k in m.group(1).split(",")) + ")", text
    )


def _cite_latex(text: str) -> str:
    return CITE.sub(lambda m: "~\\cite{" + m.group(1) + "}", latex_escape(text))


def render_markdown(sections: Sequence[Section], keys: Sequence[str], title: str) -> str:
    """The section as Markdown, with author-year citations and a reference list."""
    out = [f"## {title}", ""]
    for section in sections:
        out += [f"### {section.title}", ""]
        for paragraph in section.paragraphs:
            if isinstance(paragraph, list):
                out += [f"- {_cite_markdown(line)}" for line in paragraph] + [""]
            elif paragraph:
                out += [_cite_markdown(paragraph), ""]
    if keys:
        out += ["### References", ""] + [f"- {WORKS[k].reference}" for k in keys] + [""]
    return "\n".join(out)


def render_latex(sections: Sequence[Section], bib_name: str, title: str) -> str:
    """The section as LaTeX for ``\\input`` (plain LaTeX, ``\\cite`` into ``bib_name``)."""
    out = [
        f"% {title}: written by joulebench from the run's results file.",
        f"% \\input{{}} this file; cite from {bib_name}.bib (\\bibliography{{{bib_name}}}).",
        f"\\section{{{latex_escape(title)}}}",
        "",
    ]
    for section in sections:
        out += [f"\\subsection{{{latex_escape(section.title)}}}", ""]
        for paragraph in section.paragraphs:
            if isinstance(paragraph, list):
                out += ["\\begin{itemize}"]
                out += [f"  \\item {_cite_latex(line)}" for line in paragraph]
                out += ["\\end{itemize}", ""]
            elif paragraph:
                out += [_cite_latex(paragraph), ""]
    return "\n".join(out)


def cited_keys(sections: Sequence[Section]) -> list[str]:
    """Every cited key, in order of first citation."""
    keys: list[str] = []
    for marker in CITE.findall(flat(sections)):
        for key in marker.split(","):
            if key not in keys:
                keys.append(key)
    return keys
