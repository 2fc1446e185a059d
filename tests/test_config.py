"""The typed config schema: YAML + key=value overrides, clear errors naming key and file."""

import pytest

from visionkit.config import Config, apply_override, build_config, coerce, load_config, to_dict
from visionkit.errors import ConfigError


def _write(tmp_path, text, name="c.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_yaml_and_overrides_are_typed(tmp_path):
    p = _write(tmp_path, "name: x\nmodel: {name: yolov1, grid: 7}\ntrain: {epochs: 3, lr: 0.01}\n")
    cfg = load_config(p, ["train.epochs=5", "train.lr=1e-3", "model.grid=14", "data.augment.scale_jitter=[0.5, 1.5]", "train.amp=bf16"])
    assert isinstance(cfg, Config)
    assert cfg.train.epochs == 5 and cfg.train.lr == pytest.approx(1e-3)
    assert cfg.model == {"name": "yolov1", "grid": 14}
    assert cfg.data.augment.scale_jitter == (0.5, 1.5)
    assert to_dict(cfg)["data"]["augment"]["scale_jitter"] == [0.5, 1.5]  # YAML-able


def test_unknown_key_names_the_file_the_key_and_the_closest_valid_one(tmp_path):
    p = _write(tmp_path, "train:\n  epoch: 3\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert str(p) in msg and "'epoch'" in msg and "did you mean 'epochs'" in msg
    with pytest.raises(ConfigError, match="did you mean 'batch_size'"):
        build_config({}, ["data.batchsize=4"])
    with pytest.raises(ConfigError, match="unknown key 'optimiser'"):
        build_config({"train": {"optimiser": "sgd"}})


def test_wrong_types_are_errors_with_the_dotted_key():
    with pytest.raises(ConfigError, match=r"train.epochs: expected an integer, got 'ten'"):
        build_config({"train": {"epochs": "ten"}})
    with pytest.raises(ConfigError, match="train.lr: expected a number"):
        build_config({}, ["train.lr=[1]"])
    with pytest.raises(ConfigError, match="expected true/false"):
        build_config({"quiet": "maybe"})
    with pytest.raises(ConfigError, match="expected 2 values"):
        coerce([1, 2, 3], tuple[float, float], "scale_jitter")


def test_bad_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"no such config file"):
        load_config(tmp_path / "nope.yaml")
    bad = _write(tmp_path, "train:\n  epochs: [1,\n", "bad.yaml")
    with pytest.raises(ConfigError, match=r"bad.yaml:.*line \d+.*invalid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(_write(tmp_path, "- a\n- b\n", "list.yaml"))


def test_override_syntax_errors():
    with pytest.raises(ConfigError, match="expected key=value"):
        apply_override({}, "train.epochs")
    with pytest.raises(ConfigError, match="is not a section"):
        apply_override({"train": 3}, "train.epochs=3")
    with pytest.raises(ConfigError, match="needs a 'name'"):
        build_config({"model": {"grid": 7}})


def test_environment_variables_expand(monkeypatch):
    monkeypatch.setenv("VISIONKIT_DATA", "/data/sets")
    assert build_config({"data": {"root": "${VISIONKIT_DATA}/bccd"}}).data.root == "/data/sets/bccd"
    monkeypatch.delenv("VISIONKIT_DATA")
    assert build_config({"data": {"root": "${VISIONKIT_DATA}/bccd"}}).data.root == "data/bccd"
    assert build_config({"data": {"root": "${NOPE:-/x}"}}).data.root == "/x"


def test_model_options_are_checked_against_the_builders_signature():
    from visionkit.engine.build import build_model

    cfg = build_config({"model": {"name": "yolov1", "gird": 7, "pretrained": False}})
    with pytest.raises(ConfigError, match="unknown key 'gird'; did you mean 'grid'"):
        build_model(cfg, ["a"])
    cfg = build_config({"model": {"name": "yolov1", "grid": "seven", "pretrained": False}})
    with pytest.raises(ConfigError, match="grid: expected an integer"):
        build_model(cfg, ["a"])
