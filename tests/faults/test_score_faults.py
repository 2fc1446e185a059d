"""``visionkit score`` given results whose ids are not the ground truth's: the same detections
must score the same whatever order or numbering the tool that wrote them used, or be refused
in one line. Never a wrong mAP with exit 0."""

from __future__ import annotations

import json

import pytest

from visionkit.cli import main

NAMES = ["RBC", "WBC", "Platelets"]  # GT category order: ids 1, 2, 3


def _gt(tmp_path, names=("sub/a.jpg", "sub/b.jpg", "c.jpg")):
    images = [{"id": 10 + i, "file_name": n, "width": 100, "height": 100} for i, n in enumerate(names)]
    cats = [{"id": i + 1, "name": n} for i, n in enumerate(NAMES)]
    anns = [{"id": k + 1, "image_id": 10 + k, "category_id": k + 1, "bbox": [10, 10, 30, 30]} for k in range(3)]
    path = tmp_path / "gt.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    return path


def _detect_style(tmp_path, order, cat_order=NAMES, name=lambda n: f"/home/u/shots/{n}"):
    """Results as a tool that numbers its inputs 1..N and its classes in its own order writes them."""
    gt_names = ["sub/a.jpg", "sub/b.jpg", "c.jpg"]
    res = []
    for k, i in enumerate(order):  # image i holds class i, found exactly; one false positive each
        res.append({"image_id": k + 1, "file_name": name(gt_names[i]), "category_id": cat_order.index(NAMES[i]) + 1,
                    "category_name": NAMES[i], "bbox": [10, 10, 30, 30], "score": 0.9})
        res.append({"image_id": k + 1, "file_name": name(gt_names[i]), "category_id": cat_order.index(NAMES[i]) + 1,
                    "category_name": NAMES[i], "bbox": [60, 60, 30, 30], "score": 0.3})
    path = tmp_path / f"res_{''.join(map(str, order))}_{cat_order[0]}.json"
    path.write_text(json.dumps(res))
    return path


def _score(capsys, gt, res, metric="voc07"):
    code = main(["score", "--gt", str(gt), "--pred", str(res), "--metric", metric, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


@pytest.mark.parametrize("metric", ["voc07", "coco"])
def test_order_and_class_numbering_do_not_change_the_score(tmp_path, capsys, metric):
    gt = _gt(tmp_path)
    key = "mAP" if metric == "voc07" else "AP"
    scores = []
    for order, cats in (([0, 1, 2], NAMES), ([2, 1, 0], NAMES), ([1, 2, 0], sorted(NAMES))):
        code, out, err = _score(capsys, gt, _detect_style(tmp_path, order, cats), metric)
        assert code == 0, err
        assert out["matched"]["images"] == "file_name" and out["matched"]["categories"] == "name"
        scores.append(out[key])
    assert scores[0] == pytest.approx(1.0) and scores == [scores[0]] * 3


def test_basename_and_relative_paths_match(tmp_path, capsys):
    gt = _gt(tmp_path)
    for name in (lambda n: n, lambda n: n.split("/")[-1], lambda n: f"./{n}", lambda n: f"C:\\data\\{n.replace('/', chr(92))}"):
        code, out, err = _score(capsys, gt, _detect_style(tmp_path, [0, 1, 2], name=name))
        assert code == 0 and out["mAP"] == pytest.approx(1.0), err


@pytest.mark.parametrize("edit, message", [
    (lambda r: r[0].update(file_name="zzz.jpg"), "item 0: file_name 'zzz.jpg' matches no image of the ground truth"),
    (lambda r: r[0].update(category_name="Neutrophil"), "item 0: category 'Neutrophil' is not a class of the ground truth"),
    (lambda r: r[2].update(category_id=r[0]["category_id"]), "is named both"),
])
def test_mismatches_are_refused_in_one_line(tmp_path, capsys, edit, message):
    gt = _gt(tmp_path)
    res_path = _detect_style(tmp_path, [0, 1, 2])
    res = json.loads(res_path.read_text())
    edit(res)
    res_path.write_text(json.dumps(res))
    code, _, err = _score(capsys, gt, res_path)
    assert code == 2 and message in err and err.count("\n") == 1


def test_an_ambiguous_basename_is_refused(tmp_path, capsys):
    gt = _gt(tmp_path, names=("x/a.jpg", "y/a.jpg", "c.jpg"))
    res = tmp_path / "res.json"
    res.write_text(json.dumps([{"image_id": 1, "file_name": "a.jpg", "category_id": 1, "bbox": [1, 1, 5, 5], "score": 1}]))
    code, _, err = _score(capsys, gt, res)
    assert code == 2 and "file_name 'a.jpg' matches 2 images (ids [10, 11])" in err


def test_ids_only_results_still_score_by_id(tmp_path, capsys):
    gt = _gt(tmp_path)
    res = tmp_path / "res.json"
    res.write_text(json.dumps([{"image_id": 10 + k, "category_id": k + 1, "bbox": [10, 10, 30, 30], "score": 0.9}
                               for k in range(3)]))
    code, out, _ = _score(capsys, gt, res)
    assert code == 0 and out["mAP"] == pytest.approx(1.0) and out["matched"]["images"] == "image_id"
    res.write_text(json.dumps([{"image_id": 1, "category_id": 1, "bbox": [10, 10, 30, 30], "score": 0.9}]))
    code, _, err = _score(capsys, gt, res)
    assert code == 2 and "unknown image_id 1" in err and "add file_name" in err
