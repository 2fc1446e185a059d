"""A tiny backbone that honours the feature contract (c3/c4/c5 at strides 8/16/32), so head
tests run in milliseconds and do not depend on the zoo."""

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
