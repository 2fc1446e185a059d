"""What the readers skipped, clipped or dropped, said before the first training step.

Readers record every problem in ``dataset.issues`` (:mod:`visionkit.data.validate`) and go on;
a run must not look clean when its data was not. Before training, the trainer prints one line
per split that had warnings or errors (counts per kind and the first files) and writes the full
list to ``runs/<name>/data_issues.txt``. ``data.strict: true`` makes the readers raise at the
first problem instead, so a strict run never gets here with issues.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..utils.io import atomic_write_text

SHOWN = 3  # files named on the console per split


def _problems(dataset) -> list:
    issues = getattr(dataset, "issues", None)
    return [i for i in (issues or []) if i.severity in ("warning", "error")]


def report_data_issues(datasets: dict, run_dir: str | Path) -> list[str]:
    """Print a summary of ``datasets``' (``{split: dataset}``) warnings and errors to stderr and
    write them all to ``run_dir/data_issues.txt``; returns the printed lines (none: no file)."""
    lines, full = [], []
    for split, ds in datasets.items():
        problems = _problems(ds)
        if not problems:
            continue
        counts: dict[str, int] = {}
        for p in problems:
            counts[p.kind] = counts.get(p.kind, 0) + 1
        files = list(dict.fromkeys(p.file for p in problems))
        lines.append(f"data ({split}): " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
                     + f" in {len(files)} file(s), e.g. {', '.join(Path(f).name for f in files[:SHOWN])}")
        full.append(f"# {split}\n" + ds.issues.report(max_per_kind=10**9))
    if lines:
        path = Path(run_dir) / "data_issues.txt"
        atomic_write_text(path, "\n\n".join(full) + "\n")
        lines.append(f"data: every skipped, clipped or dropped item is listed in {path} "
                     "(data.strict=true stops at the first one)")
        for line in lines:
            print(line, file=sys.stderr)
    return lines
