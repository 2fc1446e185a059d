"""Task heads on the shared backbones. Importing this package registers every model."""

from .detection import faster_rcnn, yolov1  # noqa: F401
from .generative import dcgan  # noqa: F401
from .segmentation import fcn  # noqa: F401
