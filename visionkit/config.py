"""Typed run configuration: YAML files (with inheritance) + ``key=value`` overrides -> :class:`Config`.

The schema is a tree of dataclasses. Two sections are open-ended by design and are typed by
the registry instead: ``model`` (``name`` + the model builder's keyword arguments) and
``data.options`` (the data set reader's keyword arguments). Every key anywhere is checked: an
unknown key is a :class:`ConfigError` naming the key, the file and the closest valid key.

    cfg = load_config("configs/faster_rcnn_bccd.yaml", ["train.epochs=3", "model.backbone=resnet18"])
    cfg.train.epochs        # 3, an int
    to_dict(cfg)            # plain, fully resolved, YAML-able dict (stored in checkpoints)

**Inheritance.** A file may name ``base:`` files (one path or a list, relative to the file
itself); they are loaded first, in order, and the file is merged over them: mappings merge key
by key, lists and scalars are replaced. Bases may have bases; a cycle is an error. A
``model:`` section whose ``name`` differs from its base's replaces the base's section, since the
keyword arguments of one builder mean nothing to another. Shared fragments live in
``configs/data/`` (one per data set), so a variant config holds only its differences.

**One place per fact.** The input size is ``data.img_size``: the engine passes it to model
builders that take ``img_size`` (as it passes ``num_classes`` and ``ignore_index``). The task is
the model's registry entry's (:func:`visionkit.registry.model_task`), not a config key. A
stored config that states these facts twice (a checkpoint's or an exported model's, written by
an earlier version) is read through :func:`migrate`: a top-level ``task`` is dropped, ``model.img_size`` moves to ``data.img_size``
(an error if both are set and differ), and a ``model.ignore_index`` equal to
``data.ignore_index`` is dropped.

Loading, merging and interpolation use OmegaConf. ``key=value`` overrides do not use its
dot-list parser: it reads ``train.resume=`` as null (here: the empty string), and
``OmegaConf.update`` silently turns a value into a section (``train.epochs=3`` over ``train: 3``;
here: an error). Strings may use
``${VAR}`` or ``${VAR:-default}`` for environment variables (``VISIONKIT_DATA`` defaults to
``data``, so configs say ``root: ${VISIONKIT_DATA}/bccd``), OmegaConf's ``${oc.env:VAR,default}``,
and ``${data.img_size}``-style references to other keys. The schema check is this module's own
(:func:`from_dict`), not OmegaConf's structured configs: their errors name neither the file nor
the closest valid key, and they cannot type the registry-typed ``model`` and ``data.options``.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .config_ranges import check_ranges
from .config_types import check_keys, check_kwargs, coerce, from_dict, to_dict  # noqa: F401  (re-exported: callers read them here)
from .errors import ConfigError
from .utils.io import atomic_write_text

# --------------------------------------------------------------------------------- schema


@dataclass
class AugmentConfig:
    """Training-time augmentation (albumentations). Evaluation transforms are deterministic."""

    hflip: float = 0.5  # probability of a horizontal flip
    vflip: float = 0.0
    rot90: float = 0.0  # probability of a turn by k x 90 degrees, k uniform in 0..3 (imagery with no "up")
    scale_jitter: tuple[float, float] = (1.0, 1.0)  # random rescale range before the crop/letterbox
    color_jitter: float = 0.0  # strength of brightness/contrast/saturation jitter (0 = off)
    hue: float = 0.0
    random_crop: float = 0.0  # probability of a random crop that keeps/drops boxes correctly
    min_visibility: float = 0.3  # a cropped box keeps at least this fraction or is dropped
    crop_border: float = 0.25  # random_crop removes up to this fraction of each border


@dataclass
class DataConfig:
    format: str = ""  # voc | coco | yolo | masks | voc_masks | coco_captions | idx | synthetic
    root: str = ""
    train: str = "train"  # split names (VOC ImageSets, COCO json name, ...) -- reader specific
    val: str = "val"
    test: str = "test"
    classes: Optional[list[str]] = None  # class names; None = read from the data set
    img_size: Any = 512  # int (square / longest side) or [h, w]; the one input size (model builders taking img_size get it)
    resize: str = "letterbox"  # letterbox | stretch | longest | none
    batch_size: int = 8
    workers: int = 2
    strict: bool = False  # every data warning becomes an error
    ignore_index: int = 255  # segmentation label to ignore
    proposals: str = ""  # "selective_search": training samples carry region proposals (R-CNN, Fast R-CNN)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    options: dict[str, Any] = field(default_factory=dict)  # the reader's own keyword arguments
    split_files: dict[str, str] = field(default_factory=dict)  # split name -> list of image paths (relative to root) it keeps


@dataclass
class TrainConfig:
    epochs: int = 10
    max_steps: int = 0  # > 0: stop after this many optimizer steps (overrides epochs)
    optimizer: str = "sgd"  # sgd | adamw | adam
    lr: float = 0.01
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 1e-4
    scheduler: str = "cosine"  # cosine | step | constant
    step_milestones: list[int] = field(default_factory=list)  # epochs, for scheduler=step
    gamma: float = 0.1
    warmup_steps: int = 0
    grad_accum: int = 1
    clip_grad: float = 0.0  # max global grad norm; 0 = off
    amp: str = "off"  # off | bf16 | fp16; on the CPU only bf16, where the CPU has native bf16
    channels_last: bool = False
    ema: float = 0.0  # EMA decay of the weights, e.g. 0.9998; 0 = off
    seed: int = 0
    deterministic: bool = False
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    eval_every: int = 1  # epochs between evaluations (0 = only at the end)
    ckpt_every: int = 0  # > 0: also save last.pt every this many steps inside an epoch (it is always saved at each epoch's end)
    metric: str = ""  # the metric that picks best.pt; empty = the task's default
    freeze: list[str] = field(default_factory=list)  # parameter-name prefixes to freeze
    log_every: int = 20  # optimizer steps between logged loss rows (and NaN checks)
    resume: str = ""  # path to a last.pt, or "auto" (runs/<name>/last.pt if present)
    exist_ok: bool = False  # a new run may write into runs/<name>/ though a run is there (else runs/<name>2/)
    plots: bool = True  # write loss/PR/confusion PNGs into the run folder
    progress: str = "auto"  # auto (bars on a terminal, one line per epoch elsewhere, none when quiet) | on | bar | lines | off


@dataclass
class EvalConfig:
    split: str = "test"
    metric: str = ""  # voc07 | voc | coco | miou | bleu | fid ; empty = task default
    iou: float = 0.5
    iou_mode: str = "voc"  # voc (inclusive pixels, +1) | continuous (pycocotools)
    # detection, the operating point of every model call while scoring (see engine/evaluator.py):
    conf: float = 0.01  # low, as mAP needs the whole precision/recall curve; the value every reported mAP used
    nms_iou: Optional[float] = None  # None: the model's own (model.nms_thresh)
    max_det: Optional[int] = None  # None: the model's own (model.max_det)
    batch_size: int = 0  # 0 = data.batch_size
    tta: list[str] = field(default_factory=list)  # detection: flip views merged with the original (h, v, hv)
    tta_vote: bool = True  # detection TTA: box voting after the merge NMS
    amp: str = "off"  # autocast while evaluating (off | bf16 | fp16); off by default: bf16 scores cost Faster R-CNN 1.8 mAP points (docs/RESULTS.md)
    fid_weights: str = ""  # generation: a visionkit classifier checkpoint whose penultimate layer is the FID feature space


@dataclass
class Config:
    name: str = "run"
    model: dict[str, Any] = field(default_factory=dict)  # {name: ..., **builder kwargs}
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    out_dir: str = "runs"
    quiet: bool = False

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.name


# ------------------------------------------------------------------- files and inheritance

BASE_KEY = "base"
_LEGACY_KEYS = ("task",)  # accepted in files and stored configs, dropped by migrate()


def read_yaml(path: str | Path) -> dict:
    """One YAML file as a plain dict, as written (``base:`` not followed, nothing resolved)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        conf = OmegaConf.load(path)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path}:{line}: invalid YAML: {problem}") from None
    if not isinstance(conf, DictConfig):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    return OmegaConf.to_container(conf, resolve=False)


def merge(base: dict, over: dict) -> dict:
    """``over`` merged onto ``base`` as a new dict: mappings key by key, lists and scalars
    replaced; a ``model`` section naming another model replaces the base's whole section."""
    base = copy.deepcopy(base)
    new_model, old_model = over.get("model"), base.get("model")
    if isinstance(new_model, dict) and isinstance(old_model, dict) and new_model.get("name", old_model.get("name")) != old_model.get("name"):
        del base["model"]
    return OmegaConf.to_container(OmegaConf.merge(OmegaConf.create(base), OmegaConf.create(over)), resolve=False)


def read_config(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict:
    """A config file merged over its ``base:`` files (paths relative to the file; a list is
    merged in order, then the file itself). Unknown keys are errors naming the file that has
    them; interpolations are left for :func:`build_config`."""
    path = Path(path)
    seen = [p.resolve() for p in _chain]
    if path.resolve() in seen:
        loop = " -> ".join(p.name for p in (*_chain[seen.index(path.resolve()):], path))
        raise ConfigError(f"{_chain[0]}: base cycle: {loop}")
    data = read_yaml(path)
    bases = data.pop(BASE_KEY, None)
    try:
        check_keys(Config, {k: v for k, v in data.items() if k not in _LEGACY_KEYS})
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None
    if bases is None:
        return data
    bases = [bases] if isinstance(bases, str) else bases
    if not isinstance(bases, list) or not all(isinstance(b, str) and b for b in bases):
        raise ConfigError(f"{path}: base: expected a path or a list of paths, got {bases!r}")
    merged: dict = {}
    for b in bases:
        file = path.parent / os.path.expanduser(b)  # an absolute b stays absolute
        if not file.is_file():
            raise ConfigError(f"{path}: base {b!r}: no such config file {file}")
        merged = merge(merged, read_config(file, (*_chain, path)))
    return merge(merged, data)


# ------------------------------------------------------------ overrides and interpolation

_ENV = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")
_ENV_DEFAULTS = {"VISIONKIT_DATA": "data"}


def _env_syntax(value: Any) -> Any:
    """``${VAR}`` / ``${VAR:-default}`` -> OmegaConf's ``${oc.env:VAR,'default'}`` (a bare name
    that is a top-level config key stays a reference to that key)."""
    if isinstance(value, str):
        def sub(m):
            name, default = m.group(1), m.group(2)
            if default is None and name in _CONFIG_KEYS:
                return m.group(0)
            default = default if default is not None else _ENV_DEFAULTS.get(name, "")
            return "${oc.env:%s,'%s'}" % (name, default.replace("\\", "\\\\").replace("'", "\\'"))

        return _ENV.sub(sub, value)
    if isinstance(value, list):
        return [_env_syntax(v) for v in value]
    if isinstance(value, dict):
        return {k: _env_syntax(v) for k, v in value.items()}
    return value


_CONFIG_KEYS = {f.name for f in dataclasses.fields(Config)}


def resolve(data: dict) -> dict:
    """``data`` with every interpolation (environment variables, ``${section.key}``) resolved."""
    try:
        return OmegaConf.to_container(OmegaConf.create(_env_syntax(data)), resolve=True)
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", None)
        msg = str(getattr(e, "msg", None) or e).splitlines()[0]
        raise ConfigError(f"{key + ': ' if key else ''}{msg}") from None


def apply_override(data: dict, item: str) -> dict:
    """``data`` with one ``a.b.c=value`` override applied, as a new dict (``data`` is left as
    it was); the value is parsed as YAML and replaces what was there, a missing section is
    created, and a key under a non-mapping is an error."""
    if "=" not in item:
        raise ConfigError(f"override {item!r}: expected key=value")
    key, raw = item.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"override {item!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    out = copy.deepcopy(data)
    parts = key.split(".")
    node = out
    for p in parts[:-1]:
        if node.get(p) is None:
            node[p] = {}
        if not isinstance(node[p], dict):
            raise ConfigError(f"override {item!r}: {p!r} is not a section")
        node = node[p]
    node[parts[-1]] = value
    return out


def migrate(data: dict) -> dict:
    """A config written before each fact had one place, in today's form (a new dict): the
    ``task`` key is dropped (the model's registry entry has it), ``model.img_size`` moves to
    ``data.img_size``, and a ``model.ignore_index`` equal to ``data.ignore_index`` is dropped
    (the engine passes the data's)."""
    data = {k: v for k, v in data.items() if k not in _LEGACY_KEYS}
    model = data.get("model")
    if not isinstance(model, dict):
        return data
    model, section = dict(model), dict(data.get("data") or {})
    if "img_size" in model:
        size = model.pop("img_size")
        if section.setdefault("img_size", size) != size:
            raise ConfigError(f"model.img_size {size!r} differs from data.img_size {section['img_size']!r}: "
                              "the input size is data.img_size alone")
        data["data"] = section
    if "ignore_index" in model and model["ignore_index"] == section.get("ignore_index", DataConfig.ignore_index):
        del model["ignore_index"]
    data["model"] = model
    return data


def build_config(data: dict, overrides: list[str] | tuple[str, ...] = (), source: str = "config") -> Config:
    """Check ``data`` (a config dict: a merged file, a checkpoint's stored config) with
    ``key=value`` overrides applied against the schema. ``data`` itself is never modified."""
    data = copy.deepcopy(dict(data))
    for item in overrides:
        data = apply_override(data, item)
    data = migrate(resolve(data))
    cfg = from_dict(Config, data, "config" if source == "config" else source)
    if not isinstance(cfg.model, dict):
        raise ConfigError(f"{source}: model must be a mapping with a 'name'")
    if cfg.model and "name" not in cfg.model:
        raise ConfigError(f"{source}: model section needs a 'name'")
    check_ranges(cfg)
    return cfg


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read a YAML config and its bases, apply ``key=value`` overrides, resolve
    interpolations, and check the result against the schema."""
    data = read_config(path)
    try:
        return build_config(data, overrides)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def save_config(cfg: Config, path: str | Path) -> None:
    """Write the fully resolved config (no ``base:``, no interpolation) as YAML."""
    atomic_write_text(path, yaml.safe_dump(to_dict(cfg), sort_keys=False))
