"""Plain-text tables for the CLI (no dependency: every verb prints the same way)."""

from __future__ import annotations


def format_table(header: list[str], rows: list[list], align: str = "") -> str:
    """Columns padded to their widest cell; ``align`` is one of 'l'/'r' per column
    (default: numbers right, text left)."""
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    if not align:
        align = "".join("r" if rows and all(_numeric(r[i]) for r in rows) else "l" for i in range(len(header)))
    out = []
    for n, r in enumerate(cells):
        out.append("  ".join(c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(r, widths, align)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _numeric(value) -> bool:
    if isinstance(value, (int, float)):
        return True
    s = str(value).replace(",", "").replace(".", "", 1).strip()
    return s.isdigit() or s in ("-", "?", "")
