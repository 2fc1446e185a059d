"""visionkit: the landmark CNN applications of computer vision in one package.

Layers (top to bottom): ``backbones`` -> ``models`` -> ``engine`` -> ``metrics`` -> ``cli``,
with ``data`` beside them. See docs/ARCHITECTURE.md.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
