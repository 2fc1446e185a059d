"""Hand-made detection data: four 128 px images, two coloured boxes each (the colour tells the
class), on which every detector must overfit to mAP 1."""

import torch

C = 3  # classes 1..3


def four_images():
    """``(images 4×3×128×128, targets)``; seeds torch's global RNG with 0 (as the tests expect)."""
    torch.manual_seed(0)
    images, targets = [], []
    for i in range(4):
        img = torch.full((3, 128, 128), 0.2)
        boxes, labels = [], []
        for j in range(2):
            x0, y0 = 8 + 56 * ((i + j) % 2), 8 + 60 * j
            w, h = 40 + 4 * i, 36 + 6 * j
            cls = (i + j) % C + 1
            img[cls - 1, y0 : y0 + h, x0 : x0 + w] = 1.0  # the colour tells the class
            boxes.append([x0, y0, x0 + w, y0 + h])
            labels.append(cls)
        images.append(img)
        targets.append({"boxes": torch.tensor(boxes, dtype=torch.float32), "labels": torch.tensor(labels)})
    return torch.stack(images), targets
