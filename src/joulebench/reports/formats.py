"""Tables as Markdown, LaTeX (booktabs) and CSV. Written by hand: a few lines each, and no
extra dependency (pandas' own writers need tabulate and jinja2)."""

from __future__ import annotations

import pandas as pd

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table of ``table`` (cells as they are, pipes escaped)."""

    def cell(value: object) -> str:
        return str(value).replace("|", r"\|").replace("\n", " ")

    columns = [cell(c) for c in table.columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)
    ]
    return "\n".join(lines) + "\n"


_LATEX_SYMBOLS = {
    "±": r"$\pm$", "∞": r"$\infty$", "—": "--", "–": "--", "×": r"$\times$", "µ": r"$\mu$",
    "μ": r"$\mu$", "°": r"$^\circ$", "·": r"$\cdot$", "…": r"\ldots{}", "≥": r"$\geq$",
    "≤": r"$\leq$", "≈": r"$\approx$", "’": "'", "“": "``", "”": "''",
}  # fmt: skip
"""Characters pdflatex's default fonts lack, as LaTeX."""


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters; ``±``, ``×``, ``µ``, ... become math symbols."""
    return "".join(_LATEX_SPECIALS.get(ch) or _LATEX_SYMBOLS.get(ch, ch) for ch in text)


def latex_table(table: pd.DataFrame, caption: str, label: str = "tab:joulebench") -> str:
    """A booktabs ``table`` environment (needs ``\\usepackage{booktabs}``)."""
    spec = "l" + "r" * (len(table.columns) - 1)
    header = " & ".join(latex_escape(str(c)) for c in table.columns) + r" \\"
    rows = [
        " & ".join(latex_escape(str(v)) for v in row) + r" \\"
        for row in table.itertuples(index=False)
    ]
    return "\n".join(
        [
            r"\begin{table}[ht]",
            r"\centering",
            r"\small",
            rf"\begin{{tabular}}{{{spec}}}",
            r"\toprule",
            header,
            r"\midrule",
            *rows,
            r"\bottomrule",
            r"\end{tabular}",
            rf"\caption{{{latex_escape(caption)}}}",
            rf"\label{{{label}}}",
            r"\end{table}",
            "",
        ]
    )
