"""visionkit: the landmark CNN applications of computer vision in one package.

Layers (top to bottom): ``backbones`` -> ``models`` -> ``engine`` -> ``metrics`` -> ``cli``,
with ``data`` beside them. See docs/ARCHITECTURE.md.

    from visionkit import load_model
    results = load_model("default-detector").predict("image.jpg")
"""

from ._version import __version__

__all__ = ["__version__", "load_model", "Predictor", "Result"]


def __getattr__(name):  # lazy, so that `import visionkit` (and the CLI's --help) stays light
    if name in ("load_model", "Predictor", "Result"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'visionkit' has no attribute {name!r}")
