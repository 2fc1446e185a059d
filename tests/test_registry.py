import pytest

from visionkit.errors import ConfigError
from visionkit.registry import BACKBONES, CLASSIFIERS, DATASETS, MODELS, Registry


def test_every_registry_is_populated():
    assert {"lenet5", "alexnet", "vgg16", "googlenet", "resnet50", "densenet121", "mobilenet_v2", "darknet24"} <= set(BACKBONES.names())
    assert {"lenet5", "vgg16_bn", "resnet18"} <= set(CLASSIFIERS.names())
    assert {"rcnn", "fast_rcnn", "faster_rcnn", "yolov1", "fcn", "smp_unet", "dcgan", "show_tell", "classifier"} <= set(MODELS.names())
    assert {"voc", "coco", "yolo", "masks", "voc_masks", "coco_captions", "idx"} <= set(DATASETS.names())
    assert MODELS.get("faster_rcnn").task == "detection" and MODELS.get("fcn").task == "segmentation"


def test_unknown_names_suggest_the_closest():
    with pytest.raises(ConfigError, match="unknown backbone 'resnet5'; did you mean 'resnet50'"):
        BACKBONES.get("resnet5")
    with pytest.raises(ConfigError, match="unknown model 'yolo1'; did you mean 'yolov1'"):
        MODELS.build("yolo1")


def test_registering_twice_is_refused_and_kwargs_are_typed():
    reg = Registry("thing")

    @reg.register("a")
    def a(n: int = 1, name: str = "x"):
        return n, name

    with pytest.raises(ValueError, match="registered twice"):
        reg.register("a")(lambda: None)
    assert reg.build("a", n=3) == (3, "x")
    with pytest.raises(ConfigError, match="unknown key 'nmae'; did you mean 'name'"):
        reg.build("a", nmae="y")
