"""Config values outside their range are one-line errors naming the key, from the CLI too."""

from __future__ import annotations

import pytest

from visionkit.cli import main
from visionkit.config import load_config
from visionkit.errors import ConfigError

BAD = ["data.batch_size=0", "data.workers=-1", "train.lr=-1", "data.img_size=-5", "data.img_size=[0,64]",
       "data.augment.hflip=2", "data.augment.scale_jitter=[1.2,0.8]", "train.epochs=0", "train.grad_accum=0",
       "eval.conf=2", "eval.max_det=0", "train.log_every=0"]


@pytest.mark.parametrize("override", BAD)
def test_out_of_range_values_are_refused(override):
    with pytest.raises(ConfigError, match=rf"{override.split('=')[0]}=.*must be"):
        load_config("configs/yolov1_bccd.yaml", [override])


def test_edges_that_make_sense_are_kept():
    cfg = load_config("configs/yolov1_bccd.yaml", ["train.epochs=0", "train.max_steps=5", "data.augment.hflip=1",
                                                   "eval.nms_iou=null", "data.workers=0"])
    assert cfg.train.max_steps == 5 and cfg.data.augment.hflip == 1.0


def test_the_cli_says_it_in_one_line(capsys):
    assert main(["train", "configs/yolov1_bccd.yaml", "train.epochs=0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "train.epochs=0: must be >= 1" in err and "Traceback" not in err


def test_a_reader_option_that_is_not_yaml_is_taken_as_text(tmp_path, capsys):
    """``-o list_file={split}.txt`` (data/README's own example) is a pattern, not a YAML mapping."""
    from tests.data.fixtures import make_masks

    make_masks(tmp_path)
    code = main(["data", "check", str(tmp_path), "--format", "masks", "--split", "train", "--classes", "a,b,c,d",
                 "-o", "list_file={split}.txt"])
    assert code == 0, capsys.readouterr().err
