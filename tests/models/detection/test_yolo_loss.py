import math

import torch

from visionkit.models.detection.postprocess import Thresholds
from visionkit.models.detection.yolo_loss import (
    cell_boxes_to_xyxy,
    decode_predictions,
    encode_targets,
    paired_iou,
    yolo_loss,
)

S, B, C = 7, 2, 3
SIZE = (448, 448)


def _target(boxes, labels):
    return {"boxes": torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4), "labels": torch.as_tensor(labels, dtype=torch.int64)}


def test_known_box_lands_in_its_cell_with_paper_offsets():
    # centre (200, 100) in a 448 image with S=7: cells are 64 px, so column 3 (192..256),
    # row 1 (64..128); offsets (200-192)/64 = 0.125 and (100-64)/64 = 0.5625.
    t = encode_targets([_target([[150, 60, 250, 140]], [2])], S, C, SIZE)
    assert t.shape == (1, S, S, 5 + C)
    cell = t[0, 1, 3]
    assert torch.allclose(cell[:2], torch.tensor([0.125, 0.5625]))
    assert math.isclose(cell[2].item(), math.sqrt(100 / 448), rel_tol=1e-6)
    assert math.isclose(cell[3].item(), math.sqrt(80 / 448), rel_tol=1e-6)
    assert cell[4] == 1 and cell[5:].tolist() == [0, 1, 0]
    assert t[..., 4].sum() == 1  # every other cell is empty


def test_two_centres_in_one_cell_keep_the_larger_box():
    t = encode_targets([_target([[0, 0, 60, 60], [0, 0, 20, 20]], [1, 3])], S, C, SIZE)
    assert t[..., 4].sum() == 1
    assert t[0, 0, 0, 5:].tolist() == [1, 0, 0]


def test_empty_image_gives_empty_grid():
    t = encode_targets([_target(torch.zeros(0, 4), [])], S, C, SIZE)
    assert t.abs().sum() == 0


def test_decoding_inverts_encoding():
    boxes = [[10.0, 20.0, 110.0, 200.0], [200.0, 40.0, 230.0, 90.0], [300.0, 300.0, 440.0, 430.0]]
    labels = [1, 2, 3]
    t = encode_targets([_target(boxes, labels)], S, C, SIZE)
    # a "perfect" prediction: the target box in predictor 0, confidence 1, one-hot classes
    pred = torch.zeros(1, S, S, 5 * B + C)
    pred[..., 0:5] = t[..., 0:5]
    pred[..., 5 * B :] = t[..., 5:]
    (det,) = decode_predictions(pred, B, [SIZE], SIZE, Thresholds(conf=0.5))
    order = torch.argsort(det["boxes"][:, 0])
    assert torch.allclose(det["boxes"][order], torch.tensor(boxes), atol=1e-3)
    assert det["labels"][order].tolist() == [1, 2, 3]
    assert torch.allclose(det["scores"], torch.ones(3))


def test_cell_boxes_to_xyxy_grid_offsets():
    box = torch.zeros(1, S, S, 1, 4)
    box[0, 2, 5, 0] = torch.tensor([0.5, 0.5, 0.5, 0.5])  # centre of cell (row 2, col 5), 1/4 of the image
    xyxy = cell_boxes_to_xyxy(box, S)[0, 2, 5, 0]
    cx, cy = 5.5 / 7, 2.5 / 7
    assert torch.allclose(xyxy, torch.tensor([cx - 0.125, cy - 0.125, cx + 0.125, cy + 0.125]))


def test_paired_iou_matches_torchvision():
    from torchvision.ops import box_iou

    a = torch.tensor([[0.0, 0, 10, 10], [5, 5, 15, 25]])
    b = torch.tensor([[5.0, 5, 15, 15], [5, 5, 15, 25]])
    assert torch.allclose(paired_iou(a, b), torch.diag(box_iou(a, b)))


def test_loss_terms_on_a_hand_made_case():
    # One object in cell (0, 0); predictor 1 matches it exactly, predictor 0 is off.
    t = encode_targets([_target([[0, 0, 64, 64]], [1])], S, C, SIZE)  # x=y=0.5, √w=√h=√(1/7)
    r = math.sqrt(1 / 7)
    pred = torch.zeros(1, S, S, 5 * B + C)
    pred[0, 0, 0, 0:5] = torch.tensor([0.0, 0.0, r, r, 0.3])  # predictor 0: shifted
    pred[0, 0, 0, 5:10] = torch.tensor([0.5, 0.5, r, r, 0.8])  # predictor 1: exact, IoU 1
    pred[0, 0, 0, 10:] = torch.tensor([0.6, 0.3, 0.1])
    pred[0, 3, 3, 4] = 0.2  # a confident empty cell
    losses = yolo_loss(pred, t, B, lambda_coord=5.0, lambda_noobj=0.5)
    assert math.isclose(losses["loss_coord"].item(), 0.0, abs_tol=1e-6)  # responsible = predictor 1
    assert math.isclose(losses["loss_obj"].item(), (0.8 - 1.0) ** 2, rel_tol=1e-5)
    # not responsible: predictor 0 of the object cell (0.3) and the empty cell's predictor (0.2)
    assert math.isclose(losses["loss_noobj"].item(), 0.5 * (0.3**2 + 0.2**2), rel_tol=1e-5)
    assert math.isclose(losses["loss_cls"].item(), (0.6 - 1) ** 2 + 0.3**2 + 0.1**2, rel_tol=1e-5)


def test_coordinate_loss_uses_square_roots_and_lambda():
    t = encode_targets([_target([[0, 0, 64, 64]], [1])], S, C, SIZE)
    r = math.sqrt(1 / 7)
    pred = torch.zeros(1, S, S, 5 * B + C)
    pred[0, 0, 0, 0:5] = torch.tensor([0.6, 0.5, r + 0.1, r, 1.0])
    losses = yolo_loss(pred, t, B, lambda_coord=5.0)
    assert math.isclose(losses["loss_coord"].item(), 5.0 * (0.1**2 + 0.1**2), rel_tol=1e-4)
