"""Per-layer summary of a network: output shapes, parameters and multiply-adds.

``summarize(model, (3, 224, 224))`` runs one forward pass on a zero image (batch 1) with hooks
on every module and records, for each call of a module, its input and output shapes, its
parameters and its multiply-accumulate operations (MACs). Run it on a model built on the meta
device and no memory is allocated and no arithmetic is done: the shapes alone give the counts.

Convolution and pooling rows also show kernel, stride and padding, so the shape arithmetic
can be followed by hand. Along each spatial side of size N, a window of size F moved with
stride S over an input padded by P on both sides fits

    out = floor((N + 2P - F) / S) + 1          (ceil instead of floor with ceil_mode)

times: e.g. ResNet's stem, 7×7 stride 2 pad 3 on 224 -> floor((224 + 6 - 7) / 2) + 1 = 112.

MACs convention (one multiply plus one add = one MAC; FLOPs are about twice this), per image:

- ``Conv`` (1-3 d): output elements × (C_in / groups) × kernel volume;
- ``ConvTranspose``: *input* elements × (C_out / groups) × kernel volume (each input pixel
  scatters a kernel-sized patch);
- ``Linear``: output elements × in_features (= out_features × in_features for a vector);
- everything else counts 0: batch norm, activations, pooling and additions are cheap, memory-
  bound element-wise work, and counting them is not standard. Biases are not counted either.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_CONVT = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_POOL = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
_ADAPTIVE = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool1d,
             nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)


@dataclass
class Row:
    """One call of one module."""

    name: str  # qualified name, e.g. "layer1.0.conv1"
    type: str
    depth: int  # number of name components
    leaf: bool
    geometry: str = ""  # "k3 s2 p1" for convolutions and pools
    input: str = ""
    output: str = ""
    params: int = 0  # parameters held by this module (its own if a leaf, all below it if not)
    macs: int = 0  # multiply-adds of this call (summed over the leaves below it)
    rebuilt: bool = False  # a container never called as a whole, summed from its leaves


@dataclass
class Summary:
    rows: list[Row]
    input_size: tuple[int, ...]
    output: str
    total_params: int
    trainable_params: int
    macs: int
    input_bytes: int
    param_bytes: int
    activation_bytes: int  # sum of the leaves' outputs: what training keeps for backward, roughly
    title: str = ""
    notes: list[str] = field(default_factory=list)

    modules: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (type, params)

    def visible(self, depth: int | None = None) -> list[Row]:
        """Rows shown at ``depth``: None = every leaf; N = modules N names deep (their calls,
        with everything below summed), plus the leaves above that depth.

        A container that is never called itself (a Sequential whose layers the model runs one
        by one) is rebuilt from its consecutive leaf calls: input of the first, output of the
        last, parameters of the whole container, multiply-adds summed."""
        if depth is None:
            return [r for r in self.rows if r.leaf]
        called = {r.name for r in self.rows}
        out: list[Row] = []
        covered = ""  # name of the depth-`depth` row whose descendants we are skipping
        counted: set[str] = set()
        for r in self.rows:
            if covered and r.name.startswith(covered + "."):
                continue
            covered = ""
            if r.depth == depth:
                out.append(r)
                covered = r.name
            elif r.depth < depth:
                if r.leaf:
                    out.append(r)
            elif r.leaf:
                prefix = ".".join(r.name.split(".")[:depth])
                if prefix in called:
                    continue
                if out and out[-1].name == prefix and out[-1].rebuilt:
                    g = out[-1]
                    g.output, g.macs = r.output, g.macs + r.macs
                    continue
                kind, params = self.modules.get(prefix, ("?", 0))
                g = Row(prefix, kind, depth, False, "", r.input, r.output, 0 if prefix in counted else params, r.macs, rebuilt=True)
                counted.add(prefix)
                out.append(g)
        return out

    def format_table(self, depth: int | None = None) -> str:
        rows = self.visible(depth)
        header = ["layer", "type", "k / s / p", "input", "output", "params", "MACs"]
        body = [[r.name, r.type, r.geometry, r.input, r.output, f"{r.params:,}" if r.params else "-",
                 human(r.macs) if r.macs else "-"] for r in rows]
        widths = [max(len(x[i]) for x in [header] + body) for i in range(len(header))]
        right = {5, 6}

        def line(cells):
            return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        out = [self.title] if self.title else []
        out += [line(header), "  ".join("-" * w for w in widths)]
        out += [line(b) for b in body]
        out.append("-" * (sum(widths) + 2 * (len(widths) - 1)))
        mb = 1024 * 1024
        out += [
            f"input:              1x{'x'.join(map(str, self.input_size))} ({self.input_bytes / mb:.2f} MB)",
            f"output:             {self.output}",
            f"parameters:         {self.total_params:,} ({self.param_bytes / mb:.2f} MB)",
            f"trainable:          {self.trainable_params:,}",
            f"multiply-adds:      {self.macs:,} ({human(self.macs)} MACs per image)",
            f"layer outputs:      {self.activation_bytes / mb:.2f} MB (batch 1, kept for backward)",
            "conv/pool sides:    out = floor((in + 2p - k) / s) + 1  (ceil when marked 'ceil')",
        ]
        out += self.notes
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["input_size"] = list(self.input_size)
        del d["modules"]
        return d


def human(n: float) -> str:
    """``15470264320 -> '15.47G'``."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return str(int(n))


def describe(x: Any, batch: bool = False) -> str:
    """Shape text of a tensor (batch dimension dropped unless ``batch``), or of a dict of
    them; inside lists and tuples (per-image results) tensors keep their full shape."""
    if isinstance(x, torch.Tensor):
        shape = list(x.shape) if batch or x.dim() == 0 else list(x.shape[1:])
        return "x".join(map(str, shape)) or "scalar"
    if isinstance(x, dict):
        text = ", ".join(f"{k}: {describe(v, batch)}" for k, v in x.items())
        return "{" + text + "}" if batch or not text else text
    if isinstance(x, (list, tuple)):
        parts = [describe(v, True) for v in x[:4]]
        return "[" + ", ".join(parts) + (", ..." if len(x) > 4 else "") + "]"
    if isinstance(x, (int, float)):
        return str(x)
    return type(x).__name__


def _pair(v) -> str:
    v = tuple(v) if isinstance(v, (tuple, list)) else (v,)
    return str(v[0]) if len(set(v)) == 1 else "x".join(map(str, v))


def geometry(m: nn.Module) -> str:
    """``k3 s2 p1`` (plus groups, dilation, ceil_mode when they matter)."""
    if isinstance(m, _CONV + _CONVT + _POOL):
        stride = m.stride if m.stride is not None else m.kernel_size
        text = f"k{_pair(m.kernel_size)} s{_pair(stride)} p{_pair(m.padding)}"
        if getattr(m, "groups", 1) > 1:
            text += f" g{m.groups}"
        dil = getattr(m, "dilation", 1)
        if _pair(dil) != "1":
            text += f" d{_pair(dil)}"
        if getattr(m, "ceil_mode", False):
            text += " ceil"
        return text
    if isinstance(m, _ADAPTIVE):
        return f"-> {_pair(m.output_size)}"
    return ""


def macs_of(m: nn.Module, inputs: tuple, output: Any) -> int:
    """Multiply-adds of one call, per image (see the module docstring for the convention)."""
    if isinstance(m, _CONV) and isinstance(output, torch.Tensor):
        per_image = output.numel() // max(output.shape[0], 1)
        return per_image * (m.in_channels // m.groups) * math.prod(m.kernel_size)
    if isinstance(m, _CONVT) and inputs and isinstance(inputs[0], torch.Tensor):
        x = inputs[0]
        return x.numel() // max(x.shape[0], 1) * (m.out_channels // m.groups) * math.prod(m.kernel_size)
    if isinstance(m, nn.Linear) and isinstance(output, torch.Tensor):
        per_image = output.numel() // max(output.shape[0], 1) if output.dim() > 1 else output.numel()
        return per_image * m.in_features
    return 0


def _device(model: nn.Module) -> torch.device:
    for t in list(model.parameters()) + list(model.buffers()):
        return t.device
    return torch.device("cpu")


def summarize(model: nn.Module, input_size: tuple[int, ...] = (3, 224, 224), example: Any = None) -> Summary:
    """Run ``model`` once (eval mode, no grad) on a batch-1 zero input of ``input_size``
    (or on ``example``, any input the model accepts) and tabulate every module call."""
    device = _device(model)
    x = example if example is not None else torch.zeros((1, *input_size), device=device)
    rows: list[Row] = []
    stack: list[Row] = []
    seen: set[int] = set()
    handles = []
    activation = [0]

    def pre_hook(name, m):
        def hook(module, inputs):
            leaf = not any(True for _ in module.children())
            # a module called twice (a shared ReLU, a reused block) owns its weights once
            params = sum(p.numel() for p in module.parameters()) if id(module) not in seen else 0
            seen.add(id(module))
            row = Row(name, type(module).__name__, name.count(".") + 1, leaf, geometry(module),
                      describe(inputs[0]) if inputs else "", params=params)
            rows.append(row)
            stack.append(row)

        return hook

    def post_hook(module, inputs, output):
        row = stack.pop()
        row.output = describe(output)
        if row.leaf:
            row.macs = macs_of(module, inputs, output)
            for parent in stack:
                parent.macs += row.macs
            if isinstance(output, torch.Tensor):
                activation[0] += output.numel() * output.element_size()

    for name, m in model.named_modules():
        if name:
            handles.append(m.register_forward_pre_hook(pre_hook(name, m)))
            handles.append(m.register_forward_hook(post_hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    params = {id(p): p for p in model.parameters()}.values()  # shared weights counted once
    xin = x if isinstance(x, torch.Tensor) else None
    return Summary(
        rows=rows,
        input_size=tuple(input_size),
        output=describe(out, batch=True),
        total_params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in params if p.requires_grad),
        macs=sum(r.macs for r in rows if r.leaf),
        input_bytes=xin.numel() * xin.element_size() if xin is not None else 0,
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        activation_bytes=activation[0],
        title=type(model).__name__,
        modules={n: (type(m).__name__, sum(p.numel() for p in m.parameters())) for n, m in model.named_modules() if n},
    )
