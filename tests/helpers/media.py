"""Hand-made media files."""

import cv2
import numpy as np


def write_clip(path):
    """A 3-frame 32×24 MJPG video whose frames are grey levels 0, 40, 80."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (32, 24))
    for k in range(3):
        writer.write(np.full((24, 32, 3), 40 * k, np.uint8))
    writer.release()
    return path
