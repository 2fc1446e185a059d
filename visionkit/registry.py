"""Name -> builder registries: one each for backbones, models and data sets.

A builder is a plain function whose keyword arguments, with their type hints, are the typed
schema of that entry: a config section ``{name: ..., **kwargs}`` is checked against the
signature (unknown keys are errors naming the closest valid key) and coerced to the hinted
types before the builder is called.

    @BACKBONES.register("resnet18", task="backbone")
    def resnet18(pretrained: bool = False) -> Backbone: ...

    BACKBONES.build("resnet18", pretrained=False)
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

from .config import check_kwargs
from .errors import ConfigError, unknown


@dataclass
class Entry:
    name: str
    builder: Callable[..., Any]
    task: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    def params(self) -> dict[str, inspect.Parameter]:
        return {
            k: p
            for k, p in inspect.signature(self.builder).parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }


class Registry:
    """A name -> :class:`Entry` table. Modules listed in ``modules`` are imported on first use
    so that their ``@register`` decorators run."""

    def __init__(self, kind: str, modules: tuple[str, ...] = ()):
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._modules = modules
        self._loaded = False

    def register(self, name: str, task: str = "", **info) -> Callable:
        def deco(fn):
            if name in self._entries and self._entries[name].builder is not fn:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._entries[name] = Entry(name, fn, task, dict(info))
            return fn

        return deco

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for mod in self._modules:
                importlib.import_module(mod)

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries

    def get(self, name: str) -> Entry:
        self._load()
        if name not in self._entries:
            raise ConfigError(unknown(self.kind, name, self._entries))
        return self._entries[name]

    def entries(self) -> list[Entry]:
        self._load()
        return [self._entries[n] for n in sorted(self._entries)]

    def build(self, name: str, where: str = "", **kwargs) -> Any:
        """Build ``name`` after checking ``kwargs`` against the builder's typed signature."""
        entry = self.get(name)

        kwargs = check_kwargs(entry.builder, kwargs, where or f"{self.kind} {name!r}")
        return entry.builder(**kwargs)


_BACKBONE_MODULES = (
    "visionkit.backbones.lenet",
    "visionkit.backbones.alexnet",
    "visionkit.backbones.vgg",
    "visionkit.backbones.googlenet",
    "visionkit.backbones.resnet",
    "visionkit.backbones.densenet",
    "visionkit.backbones.mobilenet",
    "visionkit.backbones.darknet",
)

# Feature extractors (the backbone contract) and their classification forms (same features +
# the paper's classifier head; parameter counts match torchvision's constructors).
BACKBONES = Registry("backbone", modules=_BACKBONE_MODULES)
CLASSIFIERS = Registry("classifier", modules=_BACKBONE_MODULES)

# Task heads (detection, segmentation, generation, captioning, classification); importing
# visionkit.models registers every one.
MODELS = Registry("model", modules=("visionkit.models",))

DATASETS = Registry("dataset", modules=("visionkit.data",))


def model_task(model: Any) -> str:
    """The task of a model: its :data:`MODELS` entry's ``task``, the one place a run's task
    comes from. ``model`` is a registered name, a config's ``model`` section, or a config
    (its ``model`` section is read); ``""`` when no model is named."""
    section = getattr(model, "model", model)
    name = section if isinstance(section, str) else (section or {}).get("name", "")
    return MODELS.get(name).task if name else ""
