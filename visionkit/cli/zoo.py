"""``visionkit models`` (the zoo as a table) and ``visionkit summary MODEL`` (layer by layer)."""

from __future__ import annotations

import json
import re

import click

from ..errors import ConfigError, unknown
from ..registry import BACKBONES, CLASSIFIERS, MODELS
from ._table import format_table


def _registries():
    return [("classifier", CLASSIFIERS), ("backbone", BACKBONES), ("model", MODELS)]


def _build_meta(entry, **kwargs):
    """Build a registry entry on the meta device: shapes without memory or initialisation, and
    without pretrained files (a meta tensor cannot receive their values)."""
    import torch

    if "pretrained" in entry.params():
        kwargs.setdefault("pretrained", False)
    with torch.device("meta"):
        return entry.builder(**kwargs)


def _weights_state(entry) -> str:
    key = entry.info.get("weights")
    if not key:
        return "-"
    from ..backbones import weights  # lazy: imports torch

    return "yes" if weights.find_local(key) else "no"


def _bundled_rows(task: str | None) -> list[dict]:
    """The models shipped with the package (``visionkit.api.BUILTIN``), with their size on disk."""
    from ..api import ASSETS, BUILTIN  # lazy: imports torch

    rows = []
    for name, b in BUILTIN.items():
        if task and task not in (b.task, "bundled"):
            continue
        path = ASSETS / b.file
        rows.append({"name": name, "kind": "bundled", "task": b.task, "domain": b.domain, "data": b.data,
                     "classes": list(b.classes), "metric": b.metric,
                     "size_mb": round(path.stat().st_size / 1e6, 1) if path.is_file() else None,
                     "weights": "yes" if path.is_file() else "no", "config": b.config, "card": b.card})
    return rows


def _classes_text(classes: list[str], limit: int = 4) -> str:
    shown = ", ".join(classes[:limit])
    return f"{len(classes)}: {shown}" + (", ..." if len(classes) > limit else "")


@click.command("models")
@click.option("--task", default=None, help="Only entries of this task or kind (bundled, backbone, classification, detection, ...).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.option("--presets", "only_presets", is_flag=True,
              help="Only the models that have presets (visionkit train --data DIR --model NAME).")
def models(task: str | None, as_json: bool, only_presets: bool):
    """The bundled models (what each knows), then every registered backbone, classifier and
    model, with each model's presets (recipes for ``visionkit train --data DIR --model NAME``;
    the first is the default)."""
    from .presets import presets_of

    bundled = [] if only_presets else _bundled_rows(task)
    rows = []
    for kind, reg in _registries():
        for e in reg.entries():
            if task and task not in (e.task, kind):
                continue
            try:
                m = _build_meta(e)
                params = sum(p.numel() for p in {id(p): p for p in m.parameters()}.values())
            except Exception:  # a builder with required arguments: count unknown
                params = None
            mine = presets_of(e.name) if kind == "model" else []
            if only_presets and not mine:
                continue
            rows.append({"name": e.name, "kind": kind, "task": e.task, "params": params, "weights": _weights_state(e),
                         "presets": mine, "doc": (e.builder.__doc__ or "").strip().splitlines()[0] if e.builder.__doc__ else ""})
    if task and not rows and not bundled:
        tasks = sorted({e.task for _, reg in _registries() for e in reg.entries()} | {k for k, _ in _registries()} | {"bundled"})
        raise ConfigError(unknown("task", task, tasks))
    if as_json:
        click.echo(json.dumps(bundled + rows, indent=2))
        return

    if bundled:
        click.echo("bundled models (--weights NAME, load_model(NAME)); each knows only its own domain and classes:")
        click.echo(format_table(
            ["name", "task", "domain", "data", "classes", "metric", "size"],
            [[r["name"], r["task"], r["domain"], r["data"], _classes_text(r["classes"]), r["metric"],
              "missing" if r["size_mb"] is None else f"{r['size_mb']} MB"] for r in bundled],
            align="lllllll",
        ))
        if not rows:
            return
        click.echo("")
    click.echo(format_table(
        ["name", "kind", "task", "params", "weights", "presets", "description"],
        [[r["name"], r["kind"], r["task"], "?" if r["params"] is None else f"{r['params']:,}", r["weights"],
          ", ".join(r["presets"]) or "-", r["doc"]] for r in rows],
        align="lllrlll",
    ))
    click.echo("\nweights: yes = pretrained file on disk, no = known but missing (visionkit weights list), - = none published"
               "\npresets: recipes for visionkit train --data DIR --model NAME (the first is the model's default)")


def find_entry(name: str):
    """``(kind, entry)`` for a classifier, backbone or model name (classifiers first)."""
    for kind, reg in _registries():
        if name in reg:
            return kind, reg.get(name)
    every = {n for _, reg in _registries() for n in reg.names()}
    raise ConfigError(unknown("model", name, every))


def parse_input(text: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """``3x224x224`` -> (3, 224, 224); ``224x224`` or ``224`` keep the model's channels."""
    if not re.fullmatch(r"\d+(x\d+){0,2}", text.strip().lower()):
        raise ConfigError(f"--input {text!r}: expected CxHxW, HxW or a side, like 3x224x224")
    dims = tuple(int(v) for v in text.strip().lower().split("x"))
    if min(dims) < 1:
        raise ConfigError(f"--input {text!r}: sizes must be positive")
    if len(dims) == 1:
        dims = (dims[0], dims[0])
    return dims if len(dims) == 3 else (default[0], *dims)


@click.command("summary")
@click.argument("model")
@click.option("--input", "input_", default=None, metavar="CxHxW", help="Input size (default: the model's own, usually 3x224x224).")
@click.option("--depth", type=click.IntRange(min=1), default=None, help="Group layers at this depth of the module tree (default: every leaf layer).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def summary(model: str, input_: str | None, depth: int | None, as_json: bool):
    """Per-layer output shapes, parameters and multiply-adds of MODEL.

    MODEL is a classifier name (e.g. resnet50), a backbone or a task model. It is built on the
    meta device: nothing is allocated, so even VGG-16 is summarized at once.
    """
    from ..summary import summarize  # lazy: imports torch

    kind, entry = find_entry(model)
    default = tuple(entry.info.get("input_size", (3, 224, 224)))
    size = parse_input(input_, default) if input_ else default
    shape = "x".join(map(str, size))
    net = _build_meta(entry)
    try:
        try:
            s = summarize(net, size)
        except RuntimeError as e:
            if not (isinstance(e, NotImplementedError) or "meta" in str(e).lower()):
                raise
            # data-dependent operations (nonzero, NMS in detectors) have no meta form: run for real
            import torch

            torch.manual_seed(0)
            net = entry.builder()
            s = summarize(net, size)
    except RuntimeError as e:  # e.g. an input too small for the network's pools
        raise ConfigError(f"{model}: cannot run on a {shape} input ({str(e).splitlines()[0]})") from None
    s.title = f"{model} ({kind}: {type(net).__name__}), input 1x{'x'.join(map(str, size))}"
    if as_json:
        d = s.to_dict()
        d["rows"] = [r.__dict__ for r in s.visible(depth)]
        click.echo(json.dumps(d, indent=2))
    else:
        click.echo(s.format_table(depth))
