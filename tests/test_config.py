"""The typed config schema: YAML + key=value overrides, clear errors naming key and file."""

import pytest
import torch

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


# ------------------------------------------------------------------------ inheritance


def test_base_chain_merges_mappings_and_replaces_lists(tmp_path):
    (tmp_path / "frag").mkdir()
    _write(tmp_path, "data: {format: voc, root: /r, classes: [a, b], augment: {hflip: 0.1, vflip: 0.2}}\n", "frag/d.yaml")
    _write(tmp_path, "base: frag/d.yaml\nmodel: {name: yolov1, grid: 7, fpn_levels: [c4, c5]}\ntrain: {epochs: 3}\n", "mid.yaml")
    p = _write(tmp_path, "base: mid.yaml\nname: leaf\nmodel: {grid: 14, fpn_levels: [c5]}\ndata: {augment: {hflip: 0.5}}\n", "leaf.yaml")
    cfg = load_config(p)
    assert cfg.name == "leaf" and cfg.train.epochs == 3
    assert cfg.model == {"name": "yolov1", "grid": 14, "fpn_levels": ["c5"]}  # merged; the list replaced
    assert (cfg.data.format, cfg.data.root, cfg.data.classes) == ("voc", "/r", ["a", "b"])
    assert (cfg.data.augment.hflip, cfg.data.augment.vflip) == (0.5, 0.2)


def test_a_list_of_bases_merges_in_order_and_another_model_name_replaces_the_section(tmp_path):
    _write(tmp_path, "model: {name: yolov1, grid: 7, head: fc}\ndata: {img_size: 448, batch_size: 8}\n", "a.yaml")
    _write(tmp_path, "data: {img_size: 512}\n", "b.yaml")
    p = _write(tmp_path, "base: [a.yaml, b.yaml]\nmodel: {name: faster_rcnn, fpn: true}\n", "c.yaml")
    cfg = load_config(p)
    assert (cfg.data.img_size, cfg.data.batch_size) == (512, 8)
    assert cfg.model == {"name": "faster_rcnn", "fpn": True}  # no yolov1 keys left over


def test_bases_are_relative_to_the_file_not_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "cfg" / "data").mkdir(parents=True)
    _write(tmp_path, "data: {root: /bccd}\n", "cfg/data/d.yaml")
    p = _write(tmp_path, "base: data/d.yaml\n", "cfg/x.yaml")
    monkeypatch.chdir(tmp_path)
    assert load_config("cfg/x.yaml").data.root == "/bccd"
    monkeypatch.chdir(tmp_path / "cfg" / "data")
    assert load_config(p).data.root == "/bccd"


def test_base_cycles_and_missing_bases_are_one_line_errors(tmp_path):
    _write(tmp_path, "base: b.yaml\nname: a\n", "a.yaml")
    _write(tmp_path, "base: a.yaml\nname: b\n", "b.yaml")
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path / "a.yaml")
    assert str(e.value) == f"{tmp_path / 'a.yaml'}: base cycle: a.yaml -> b.yaml -> a.yaml"
    with pytest.raises(ConfigError, match=r"self.yaml: base cycle: self.yaml -> self.yaml$"):
        load_config(_write(tmp_path, "base: self.yaml\n", "self.yaml"))
    with pytest.raises(ConfigError, match=r"m.yaml: base 'nope.yaml': no such config file"):
        load_config(_write(tmp_path, "base: nope.yaml\n", "m.yaml"))
    with pytest.raises(ConfigError, match=r"n.yaml: base: expected a path or a list of paths"):
        load_config(_write(tmp_path, "base: {a: 1}\n", "n.yaml"))


def test_an_unknown_key_in_a_base_names_that_file(tmp_path):
    _write(tmp_path, "data:\n  batchsize: 4\n", "frag.yaml")
    p = _write(tmp_path, "base: frag.yaml\n", "leaf.yaml")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert msg.startswith(str(tmp_path / "frag.yaml")) and "unknown key 'batchsize'; did you mean 'batch_size'?" in msg


def test_interpolation_references_other_keys_and_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VK_TEST_ROOT", "/sets")
    p = _write(tmp_path, "name: ${oc.env:VK_TEST_NAME,'fallback'}\ndata: {root: '${VK_TEST_ROOT}/x', img_size: 320, "
                         "options: {size: '${data.img_size}'}}\n")
    cfg = load_config(p)
    assert (cfg.name, cfg.data.root, cfg.data.options) == ("fallback", "/sets/x", {"size": 320})
    with pytest.raises(ConfigError, match=r"c.yaml: .*data.options.size"):
        load_config(p, ["data.options.size=${data.nope}"])


# ------------------------------------------------------------------- no caller mutation


def test_overrides_never_change_the_callers_dict():
    import copy

    data = {"model": {"name": "yolov1", "grid": 7}, "train": {"epochs": 3}, "data": {"augment": {"hflip": 0.1}}}
    before = copy.deepcopy(data)
    cfg = build_config(data, ["model.grid=14", "train.epochs=5", "data.augment.hflip=0.9", "eval.tta=[h]"])
    assert (cfg.model["grid"], cfg.train.epochs, cfg.data.augment.hflip) == (14, 5, 0.9)
    assert data == before
    out = apply_override(data, "train.epochs=9")
    assert out["train"]["epochs"] == 9 and data == before
    cfg.model["grid"] = 28  # the built config does not share the caller's nested sections either
    assert data["model"]["grid"] == 7


# ---------------------------------------------------------------------- one place per fact


def test_stored_configs_that_state_a_fact_twice_are_migrated():
    from visionkit.config import migrate

    old = {"task": "detection", "model": {"name": "yolov1", "img_size": 224, "ignore_index": 255}, "data": {}}
    assert migrate(old) == {"model": {"name": "yolov1"}, "data": {"img_size": 224}}
    assert old["model"]["img_size"] == 224  # not modified
    kept = migrate({"model": {"name": "fcn", "ignore_index": 0}, "data": {"img_size": 64}})
    assert kept["model"] == {"name": "fcn", "ignore_index": 0}  # differs from the data's: kept
    with pytest.raises(ConfigError, match=r"model.img_size 224 differs from data.img_size 448"):
        build_config({"model": {"name": "yolov1", "img_size": 224}, "data": {"img_size": 448}})


def test_the_engine_passes_data_img_size_to_builders_that_take_it():
    from visionkit.engine.build import build_model

    gan = build_model(build_config({"model": {"name": "dcgan", "g_width": 8, "d_width": 8}, "data": {"img_size": 16}}))
    assert gan.img_size == 16 and gan.generator(torch.zeros(1, 100, 1, 1)).shape[-1] == 16
    square = build_config({"model": {"name": "dcgan", "g_width": 8, "d_width": 8}, "data": {"img_size": [16, 16]}})
    assert build_model(square).img_size == 16
    with pytest.raises(ConfigError, match=r"data.img_size: model 'dcgan' takes a square input"):
        build_model(build_config({"model": {"name": "dcgan"}, "data": {"img_size": [16, 32]}}))


def test_the_bundled_models_stored_configs_still_build():
    from visionkit.api import resolve_weights
    from visionkit.engine.restore import build_from_checkpoint, load_checkpoint

    for name in ("default-detector", "default-segmenter"):
        ckpt = load_checkpoint(resolve_weights(name))
        model, cfg, classes = build_from_checkpoint(ckpt)
        assert "img_size" not in cfg.model and cfg.data.img_size == ckpt["config"]["data"]["img_size"]
        assert model.task == ckpt["task"]
