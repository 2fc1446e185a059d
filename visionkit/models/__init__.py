"""Task heads on the shared backbones. Importing this package registers every model."""

from .captioning import show_tell  # noqa: F401
from .classification import classifier  # noqa: F401
from .detection import fast_rcnn, faster_rcnn, peers, rcnn, yolov1  # noqa: F401
from .generative import dcgan  # noqa: F401
from .segmentation import fcn, smp  # noqa: F401
