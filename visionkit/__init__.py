"""visionkit: the landmark CNN applications of computer vision in one package.

Layers (each imports only those below it): ``cli`` > ``api``/``export`` > ``engine`` >
``metrics``/``exported`` > ``models`` > ``backbones``/``data`` > ``registry`` > ``config`` >
``utils``/``errors``; the contracts are in pyproject.toml. See docs/ARCHITECTURE.md.

    from visionkit import load_model
    results = load_model("default-detector").predict("image.jpg")
"""

from ._version import __version__

__all__ = ["__version__", "load_model", "Predictor", "Result"]


def __getattr__(name):  # lazy, so that `import visionkit` (and the CLI's --help) stays light
    if name in ("load_model", "Predictor", "Result"):
        from . import api  # lazy: api imports torch

        return getattr(api, name)
    raise AttributeError(f"module 'visionkit' has no attribute {name!r}")
