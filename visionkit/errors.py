"""User-facing errors.

A :class:`UserError` is a mistake in what the user gave us (a path, a config key, a corrupt
file). The CLI prints it as one line, ``error: <message>``, and exits non-zero, without a
traceback. Everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import Callable, NoReturn


class UserError(Exception):
    """A problem with the user's input; shown as one line, never as a traceback."""

    exit_code = 2


class ConfigError(UserError):
    """A bad configuration file or ``key=value`` override."""


class DataError(UserError):
    """A bad data set, annotation or image file."""


class WeightsError(UserError):
    """Weights that are missing, unverifiable, or of the wrong kind."""


def run_script(main: Callable[[], int | None]) -> NoReturn:
    """Run a ``tools/`` script's ``main`` and exit with its status; a :class:`UserError`
    becomes the CLI's one-line ``error: <message>`` and its ``exit_code``."""
    try:
        code = main()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        code = e.exit_code
    sys.exit(code or 0)


def closest(name: str, choices) -> str | None:
    """The valid choice closest to a misspelt ``name`` (or None)."""
    import difflib

    hits = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.5)
    return hits[0] if hits else None


def unknown(kind: str, name: str, choices) -> str:
    """``unknown model 'resnet5'; did you mean 'resnet50'?`` -- one line naming the problem."""
    hint = closest(name, choices)
    msg = f"unknown {kind} {name!r}"
    if hint is not None:
        return f"{msg}; did you mean {hint!r}?"
    shown = ", ".join(sorted(map(str, choices))[:12])
    return f"{msg}; valid: {shown}" + (", ..." if len(choices) > 12 else "")
