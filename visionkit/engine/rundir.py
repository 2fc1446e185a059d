"""Run folders that never clobber: a new run whose ``runs/<name>/`` already holds a run goes to
``runs/<name>2/`` (then 3, 4, ...), as Ultralytics does, unless ``train.exist_ok`` (or
``--exist-ok``) reuses the folder or the run resumes into it."""

from __future__ import annotations

from pathlib import Path

# what makes a folder a run's: anything the trainer writes there
RUN_FILES = ("config.yaml", "last.pt", "best.pt", "metrics.jsonl", "metrics.csv")


def holds_a_run(folder: Path) -> bool:
    return folder.is_dir() and any((folder / f).exists() for f in RUN_FILES)


def fresh_run_name(out_dir: str | Path, name: str) -> str:
    """``name`` if ``out_dir/name`` holds no run yet, else the first free ``name2``, ``name3``..."""
    if not holds_a_run(Path(out_dir) / name):
        return name
    k = 2
    while holds_a_run(Path(out_dir) / f"{name}{k}") or (Path(out_dir) / f"{name}{k}").is_file():
        k += 1
    return f"{name}{k}"


def remove_stale_temps(run_dir: str | Path) -> list[Path]:
    """Delete the temporary files that an atomic write killed mid-way left in ``run_dir``
    (``.last.pt.<random>.tmp``, ...): the run about to write there is their only owner.
    Returns what was removed."""
    removed = []
    for p in Path(run_dir).glob(".*.tmp"):
        if p.is_file():
            p.unlink()
            removed.append(p)
    return removed
