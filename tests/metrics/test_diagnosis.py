from visionkit.metrics.diagnosis import error_breakdown

CLASSES = ["a", "b"]


def test_each_detection_lands_in_one_bin_hand_worked():
    gts = [{"boxes": [[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [60, 0, 70, 10]],
            "labels": [1, 1, 2, 1], "difficult": [0, 0, 0, 1]}]
    preds = [{"boxes": [[0, 0, 10, 10],      # a: TP
                        [0, 0, 10, 9],       # a: duplicate of the same GT
                        [20, 0, 26, 10],     # a: IoU 7/11 >= 0.5 of GT 2 -> TP
                        [24, 0, 34, 10],     # a: overlaps GT 2 by 77/165 = 0.47 < 0.5: localisation
                        [40, 0, 50, 10],     # a: only a "b" GT there: confusion
                        [60, 0, 70, 10],     # a: matches a difficult GT: ignored
                        [100, 100, 110, 110],  # b: nothing near: background
                        [40, 0, 50, 10]],    # b: scores below conf: not counted
              "labels": [1, 1, 1, 1, 1, 1, 2, 2],
              "scores": [0.9, 0.8, 0.85, 0.7, 0.6, 0.95, 0.99, 0.1]}]
    out = error_breakdown(gts, preds, CLASSES, conf=0.5)
    assert out["a"] == {"tp": 2, "duplicate": 1, "localisation": 1, "confusion": 1, "background": 0, "missed": 0}
    assert out["b"] == {"tp": 0, "duplicate": 0, "localisation": 0, "confusion": 0, "background": 1, "missed": 1}
    low = error_breakdown(gts, preds, CLASSES, conf=0.05)
    assert low["b"]["tp"] == 1 and low["b"]["missed"] == 0


def test_tp_plus_missed_is_every_non_difficult_gt():
    gts = [{"boxes": [[0, 0, 10, 10], [20, 0, 30, 10]], "labels": [1, 2]}, {"boxes": [], "labels": []}]
    preds = [{"boxes": [[0, 0, 10, 10]], "labels": [1], "scores": [0.9]},
             {"boxes": [[5, 5, 15, 15]], "labels": [2], "scores": [0.9]}]
    out = error_breakdown(gts, preds, CLASSES)
    assert sum(out[c]["tp"] + out[c]["missed"] for c in CLASSES) == 2
    assert out["b"]["background"] == 1  # an image without GT: every detection is background
