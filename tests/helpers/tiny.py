"""A tiny backbone that honours the feature contract (c3/c4/c5 at strides 8/16/32), so head
tests run in milliseconds and do not depend on the zoo; importing this module registers it as
``tiny_test``. Also untrained tiny checkpoints for the CLI, API, export and tool tests."""

from torch import nn

from visionkit.backbones import Backbone


class TinyBackbone(Backbone):
    def __init__(self, width: int = 8):
        super().__init__()
        w = width

        def down(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

        self.stem = nn.Sequential(down(3, w), down(w, w))  # stride 4
        self.s3, self.s4, self.s5 = down(w, 2 * w), down(2 * w, 4 * w), down(4 * w, 4 * w)
        self.set_plan([("stem", None), ("s3", "c3"), ("s4", "c4"), ("s5", "c5")],
                      {"c3": 2 * w, "c4": 4 * w, "c5": 4 * w}, {"c3": 8, "c4": 16, "c5": 32})


def _register() -> None:
    from visionkit.registry import BACKBONES

    if "tiny_test" not in BACKBONES:

        @BACKBONES.register("tiny_test", task="backbone")
        def tiny_test(pretrained: bool = False, width: int = 8) -> TinyBackbone:
            return TinyBackbone(width)


_register()


def bccd_checkpoint(path, data_dir, **data):
    """An untrained tiny YOLOv1 checkpoint whose config reads the real BCCD (``data`` overrides
    the data section, e.g. ``val="val[:3]"``). Returns ``(path, cfg)``."""
    import torch

    from visionkit.config import build_config, to_dict
    from visionkit.engine.checkpoint import save_checkpoint
    from visionkit.registry import MODELS

    torch.manual_seed(0)
    model = {"name": "yolov1", "backbone": "tiny_test", "pretrained": False, "grid": 4, "img_size": 128, "score_thresh": 0.0}
    classes = ["RBC", "WBC", "Platelets"]
    data = {"format": "voc", "root": str(data_dir / "bccd"), "img_size": 128, "batch_size": 2, "workers": 0,
            "classes": classes, **data}
    cfg = build_config({"task": "detection", "model": model, "data": data, "quiet": True})
    net = MODELS.build("yolov1", num_classes=3, **{k: v for k, v in model.items() if k != "name"})
    save_checkpoint(path, {"model": net.state_dict(), "config": to_dict(cfg), "task": "detection", "classes": classes})
    return path, cfg


CLASSES = ["RBC", "WBC", "Platelets"]


def tiny_checkpoint(path, task="detection"):
    """An untrained tiny checkpoint: YOLOv1 on ``CLASSES`` (``task="detection"``) or an FCN on
    ``["sky", "road"]`` (``task="segmentation"``), 128 px. Returns ``path``."""
    import torch

    from visionkit.config import build_config, to_dict
    from visionkit.engine.checkpoint import save_checkpoint
    from visionkit.registry import MODELS

    torch.manual_seed(0)
    if task == "detection":
        model = {"name": "yolov1", "backbone": "tiny_test", "pretrained": False, "grid": 4, "img_size": 128, "score_thresh": 0.0}
        classes = CLASSES
    else:
        model = {"name": "fcn", "backbone": "tiny_test", "pretrained": False, "fc_channels": 0}
        classes = ["sky", "road"]
    cfg = build_config({"task": task, "model": model, "data": {"img_size": 128, "classes": classes}})
    net = MODELS.build(model["name"], num_classes=len(classes), **{k: v for k, v in model.items() if k != "name"})
    save_checkpoint(path, {"model": net.state_dict(), "config": to_dict(cfg), "task": task, "classes": classes})
    return path
