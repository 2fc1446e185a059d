"""YOLOv1's grid targets, sum-squared loss and decoding (Redmon et al., CVPR 2016, §2).

The image is divided into an S×S grid. The cell that contains an object's centre is
*responsible* for it. Each cell predicts B boxes and one set of C class probabilities:

    cell vector = [x, y, √w, √h, conf] × B  +  [P(class_1 | object) ... P(class_C | object)]

* ``x, y``  — the box centre as an offset inside the cell, in [0, 1];
* ``√w, √h`` — square roots of width and height relative to the whole image (the square
  root makes an error on a small box cost more than the same error on a large one);
* ``conf``  — P(object) · IoU(predicted box, truth).

Targets use the same layout with one box per cell: ``[x, y, √w, √h, 1, one-hot(C)]``.

Loss (eq. 3 of the paper), for the predictor of each object cell with the highest IoU with
the truth (the "responsible" predictor):

    λcoord Σ [(x−x̂)² + (y−ŷ)² + (√w−√ŵ)² + (√h−√ĥ)²]
  + Σ_resp (conf − IoU)²   +   λnoobj Σ_not resp conf²   +   Σ_object cells Σ_c (p(c) − p̂(c))²

At test time the class-specific confidence is ``conf · P(class | object)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .postprocess import Thresholds, select_detections


def encode_targets(
    targets: list[dict], grid: int, num_classes: int, image_size: tuple[int, int]
) -> torch.Tensor:
    """Ground truth -> ``N×S×S×(5+C)`` grid targets.

    ``targets[i]["boxes"]`` are xyxy pixels in an image of ``image_size`` (h, w) and
    ``targets[i]["labels"]`` are 1..C. A cell holds one object, as in the paper: when two
    centres fall in one cell, the larger box is kept.
    """
    h, w = image_size
    S = grid
    device = targets[0]["boxes"].device if targets else "cpu"
    out = torch.zeros((len(targets), S, S, 5 + num_classes), device=device)
    for n, t in enumerate(targets):
        boxes = t["boxes"].float()
        if boxes.numel() == 0:
            continue
        labels = t["labels"].long()
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        for i in torch.argsort(area).tolist():  # small first, so a larger box overwrites
            x0, y0, x1, y1 = boxes[i].tolist()
            bw, bh = (x1 - x0) / w, (y1 - y0) / h
            if bw <= 0 or bh <= 0:
                continue
            cx, cy = (x0 + x1) / 2 / w * S, (y0 + y1) / 2 / h * S
            col, row = min(max(int(cx), 0), S - 1), min(max(int(cy), 0), S - 1)
            cell = out[n, row, col]
            cell.zero_()
            cell[0], cell[1] = cx - col, cy - row
            cell[2], cell[3] = bw**0.5, bh**0.5
            cell[4] = 1.0
            cell[5 + int(labels[i]) - 1] = 1.0
    return out


def cell_boxes_to_xyxy(box: torch.Tensor, grid: int) -> torch.Tensor:
    """``N×S×S×K×4`` of (x, y, √w, √h) per cell -> xyxy relative to the image (0..1)."""
    S = grid
    idx = torch.arange(S, device=box.device, dtype=box.dtype)
    cx = (box[..., 0] + idx.view(1, 1, S, 1)) / S  # column offset of each cell
    cy = (box[..., 1] + idx.view(1, S, 1, 1)) / S  # row offset of each cell
    bw, bh = box[..., 2].clamp(min=0) ** 2, box[..., 3].clamp(min=0) ** 2
    return torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], dim=-1)


def paired_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IoU of corresponding xyxy boxes (same shape ``...×4``), not all pairs."""
    lt = torch.maximum(a[..., :2], b[..., :2])
    rb = torch.minimum(a[..., 2:], b[..., 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[..., 2:] - a[..., :2]).clamp(min=0).prod(-1)
    area_b = (b[..., 2:] - b[..., :2]).clamp(min=0).prod(-1)
    return inter / (area_a + area_b - inter).clamp(min=1e-9)


def split_prediction(pred: torch.Tensor, boxes_per_cell: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``N×S×S×(5B+C)`` -> boxes ``N×S×S×B×5`` and class probabilities ``N×S×S×C``."""
    N, S, _, _ = pred.shape
    B = boxes_per_cell
    return pred[..., : 5 * B].reshape(N, S, S, B, 5), pred[..., 5 * B :]


def yolo_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    boxes_per_cell: int = 2,
    lambda_coord: float = 5.0,
    lambda_noobj: float = 0.5,
    class_loss: bool = True,
) -> dict[str, torch.Tensor]:
    """The paper's sum-squared loss, summed over the grid and averaged over the batch.

    ``pred`` is the activated network output ``N×S×S×(5B+C)``; ``target`` the output of
    :func:`encode_targets`. Returns the four terms; the engine adds them. ``class_loss=False``
    leaves out ``loss_cls``: with one class and softmax class probabilities it is identically 0,
    and a constant term would only be logged and plotted as a flat line.
    """
    N, S = pred.shape[0], pred.shape[1]
    boxes, cls = split_prediction(pred, boxes_per_cell)
    obj = target[..., 4] > 0  # N×S×S: cells responsible for an object

    with torch.no_grad():
        ious = paired_iou(cell_boxes_to_xyxy(boxes[..., :4], S), cell_boxes_to_xyxy(target[..., None, :4], S))
        best = ious.argmax(-1)  # N×S×S: the predictor with the highest IoU is responsible
    resp = F.one_hot(best, boxes_per_cell).bool() & obj[..., None]  # N×S×S×B

    t = target[..., None, :4].expand_as(boxes[..., :4])
    coord = ((boxes[..., :4] - t) ** 2).sum(-1)
    conf = boxes[..., 4]
    losses = {
        "loss_coord": lambda_coord * coord[resp].sum() / N,
        "loss_obj": ((conf - ious) ** 2)[resp].sum() / N,
        "loss_noobj": lambda_noobj * (conf**2)[~resp].sum() / N,
    }
    if class_loss:
        losses["loss_cls"] = ((cls - target[..., 5:]) ** 2)[obj].sum() / N
    return losses


def decode_predictions(
    pred: torch.Tensor,
    boxes_per_cell: int,
    image_sizes: list[tuple[int, int]],
    input_size: tuple[int, int],
    thresholds: Thresholds = Thresholds(),
) -> list[dict[str, torch.Tensor]]:
    """Network output -> per-image detections (boxes xyxy in each image's pixels, labels 1..C,
    class-specific scores = conf · P(class | object)), after per-class NMS.

    ``input_size`` is the (h, w) the grid covers; ``image_sizes`` the real size of each image
    inside it (images are padded at the bottom/right, never shifted)."""
    N, S = pred.shape[0], pred.shape[1]
    boxes, cls = split_prediction(pred, boxes_per_cell)
    xyxy = cell_boxes_to_xyxy(boxes[..., :4], S)  # N×S×S×B×4, relative to the input
    H, W = input_size
    xyxy = xyxy * xyxy.new_tensor([W, H, W, H])
    scores = boxes[..., 4:5] * cls[..., None, :]  # N×S×S×B×C
    C = cls.shape[-1]
    results = []
    for n in range(N):
        b = xyxy[n].reshape(-1, 1, 4).expand(-1, C, 4).reshape(-1, 4)
        s = scores[n].reshape(-1)
        labels = torch.arange(1, C + 1, device=pred.device).repeat(b.shape[0] // C)
        results.append(select_detections(b, s, labels, image_sizes[n], thresholds))
    return results
