"""Bad-input checks shared by every reader: one :class:`Issues` collector per data set.

Real data sets are messy: boxes that run past the image border, boxes with zero area, class
names with a typo, a JPEG cut short by a failed copy, a mask painted with a value no class
has. A reader must never crash a long training run on such an item, and must never silently
train on it either. The policy here is:

* a **warning** is a problem the reader can repair unambiguously (a box clipped to the image,
  a zero-area box dropped, an alpha channel dropped). The item is kept, repaired, and counted;
* an **error** is an item that cannot be used (corrupt image, malformed annotation line,
  unknown class). The item (or the single box) is skipped and listed;
* an **info** is a lossless conversion worth knowing about (a grayscale image made RGB).

``strict=True`` turns every warning and error into a :class:`~visionkit.errors.DataError`
raised at once, for users who want their data set clean before they train on it.

    issues = Issues(strict=False)
    boxes, keep = clean_boxes(boxes, w, h, issues, file="a.xml")
    print(issues.report())
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

import numpy as np

from ..errors import DataError

SEVERITIES = ("info", "warning", "error")


class BadFile(DataError):
    """A :class:`DataError` about one file that keeps its parts, so a reader can record it as
    an issue and go on: ``str(e) == "file:line: reason"`` (no line when it is 0)."""

    def __init__(self, file, reason: str, line: int = 0, kind: str = "malformed"):
        self.file, self.reason, self.line, self.kind = str(file), reason, int(line or 0), kind
        super().__init__(f"{self.file}:{self.line}: {reason}" if self.line else f"{self.file}: {reason}")

    def record(self, issues: "Issues", suffix: str = "") -> None:
        """Record this problem as an error (an unusable item) in ``issues``."""
        issues.error(self.kind, self.file, self.reason + suffix, self.line)


@dataclass(frozen=True)
class Issue:
    """One problem found in one file (``line`` is 1-based, 0 when it does not apply)."""

    kind: str
    file: str
    line: int
    message: str
    severity: str = "warning"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class Issues:
    """Collects :class:`Issue` records; counts them by kind; raises in strict mode."""

    def __init__(self, strict: bool = False):
        self.strict = strict
        self.items: list[Issue] = []
        self._seen: set[Issue] = set()  # an image decoded every epoch is reported once

    # -- recording --------------------------------------------------------------------
    def add(self, kind: str, file, message: str, line: int = 0, severity: str = "warning") -> Issue:
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}")
        issue = Issue(kind, str(file), int(line or 0), message, severity)
        if self.strict and severity != "info":
            raise DataError(f"{issue} (strict mode)")
        if issue not in self._seen:
            self._seen.add(issue)
            self.items.append(issue)
        return issue

    def info(self, kind: str, file, message: str, line: int = 0) -> Issue:
        return self.add(kind, file, message, line, "info")

    def warn(self, kind: str, file, message: str, line: int = 0) -> Issue:
        return self.add(kind, file, message, line, "warning")

    def error(self, kind: str, file, message: str, line: int = 0) -> Issue:
        return self.add(kind, file, message, line, "error")

    def extend(self, other: "Issues | Iterable[Issue]") -> None:
        for it in getattr(other, "items", other):
            self.add(it.kind, it.file, it.message, it.line, it.severity)

    # -- reading ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def counts(self, severity: Optional[str] = None) -> Counter:
        """``Counter`` of issue kinds (optionally of one severity)."""
        return Counter(i.kind for i in self.items if severity is None or i.severity == severity)

    def of(self, kind: str) -> list[Issue]:
        return [i for i in self.items if i.kind == kind]

    @property
    def skipped_files(self) -> list[str]:
        """Files with at least one error: their item (or box) was not used."""
        return sorted({i.file for i in self.items if i.severity == "error"})

    def report(self, max_per_kind: int = 10) -> str:
        """A human-readable report: a count per kind, then up to ``max_per_kind`` examples each."""
        if not self.items:
            return "no problems found"
        lines = []
        by_kind: dict[str, list[Issue]] = {}
        for it in self.items:
            by_kind.setdefault(it.kind, []).append(it)
        order = sorted(by_kind, key=lambda k: (-SEVERITIES.index(by_kind[k][0].severity), k))
        for kind in order:
            items = by_kind[kind]
            lines.append(f"{items[0].severity} {kind}: {len(items)}")
            for it in items[:max_per_kind]:
                lines.append(f"  {it}")
            if len(items) > max_per_kind:
                lines.append(f"  ... and {len(items) - max_per_kind} more")
        return "\n".join(lines)


# ------------------------------------------------------------------- shared box checks


def clean_boxes(boxes, width: int, height: int, issues: Issues, file, lines: Optional[Iterable[int]] = None,
                min_size: float = 1e-3, tol: float = 0.5):
    """Clip xyxy ``boxes`` (N×4) to the image and drop the ones with no area left.

    Returns ``(boxes_float32, keep)`` where ``keep`` is a bool mask over the input rows, so that
    the caller can filter its labels/flags the same way. A box that crosses the border by more
    than ``tol`` pixels is clipped with a warning (``box_clipped``); by less, it is clipped
    silently (rounding). A box with zero or negative width/height is dropped (``box_dropped``).
    """
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    line_no = list(lines) if lines is not None else [0] * len(b)
    keep = np.ones(len(b), dtype=bool)
    if len(b) == 0:
        return b, keep
    bad = ~np.isfinite(b).all(1)
    for i in np.flatnonzero(bad):
        issues.error("bad_box", file, f"box {i} has a non-finite coordinate {b[i].tolist()}", line_no[i])
    keep &= ~bad
    b[bad] = 0
    w0, h0 = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    degenerate = keep & ((w0 <= min_size) | (h0 <= min_size))
    for i in np.flatnonzero(degenerate):
        issues.warn("box_dropped", file, f"box {i} {b[i].tolist()} has zero or negative area; dropped", line_no[i])
    keep &= ~degenerate
    clipped = b.copy()
    clipped[:, 0::2] = clipped[:, 0::2].clip(0, width)
    clipped[:, 1::2] = clipped[:, 1::2].clip(0, height)
    changed = keep & (np.abs(clipped - b) > tol).any(1)  # rounding of normalised coords is no problem
    empty = changed & (((clipped[:, 2] - clipped[:, 0]) <= min_size) | ((clipped[:, 3] - clipped[:, 1]) <= min_size))
    for i in np.flatnonzero(empty):
        issues.warn("box_dropped", file, f"box {i} {b[i].tolist()} lies outside the {width}x{height} image; dropped", line_no[i])
    keep &= ~empty
    for i in np.flatnonzero(changed & keep):
        issues.warn("box_clipped", file, f"box {i} {b[i].tolist()} extends outside the {width}x{height} image; clipped", line_no[i])
    return clipped, keep


def check_mask(mask: np.ndarray, num_classes: int, ignore_index: int, issues: Issues, file) -> np.ndarray:
    """Class-index ``mask`` with every value outside ``0..num_classes-1`` (and not the ignore
    index) set to ``ignore_index``, with one ``mask_out_of_range`` warning naming the values."""
    m = mask.astype(np.int64, copy=False)
    bad = (m >= num_classes) | (m < 0)
    if ignore_index is not None:
        bad &= m != ignore_index
    if bad.any():
        values = sorted(int(v) for v in np.unique(m[bad]))[:8]
        issues.warn(
            "mask_out_of_range", file,
            f"{int(bad.sum())} mask pixels have values {values} outside 0..{num_classes - 1} "
            f"(ignore index {ignore_index}); set to ignore",
        )
        m = m.copy()
        m[bad] = ignore_index
    return m


def resolve(root: Path, rel: str) -> Path:
    """``root / rel`` (``rel`` may be absolute): for folders and files named by the user's own
    config. Paths read from a data set's files go through :func:`inside` instead."""
    p = Path(rel)
    return p if p.is_absolute() else Path(root) / p


def inside(base: Path, rel: str, where=None) -> Path:
    """``base / rel`` for a path read from an annotation or list file, refused with a
    :class:`BadFile` (kind ``outside_root``, naming ``where``) when ``rel`` is absolute or climbs
    out of ``base`` with ``..``: a data set's files never make a reader open a file outside its
    folder (a COCO ``file_name`` of ``../../etc/passwd``). The check is on the path's text, so a
    symlink that the data set's owner put inside the folder is still followed."""
    text = str(rel).replace("\\", "/")
    parts = Path(text).parts
    depth = 0
    for part in parts:
        depth += -1 if part == ".." else (0 if part in (".", "") else 1)
        if depth < 0:
            break
    where = where if where is not None else base
    if not parts:
        raise BadFile(where, "empty file name", kind="malformed")
    if Path(text).is_absolute() or text.startswith("/") or (len(text) > 1 and text[1] == ":") or depth < 0:
        raise BadFile(where, f"path {str(rel)[:120]!r} points outside {base}", kind="outside_root")
    return Path(base) / text
