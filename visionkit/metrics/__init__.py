"""Evaluation metrics, each checked against the official tool or a hand-worked answer.

* :mod:`~visionkit.metrics.voc` -- Pascal VOC AP (11-point and all-point), vectorised devkit algorithm.
* :mod:`~visionkit.metrics.coco` -- COCO AP/AR through pycocotools' COCOeval.
* :mod:`~visionkit.metrics.results` -- predictions on disk (COCO results JSON): save, load, validate.
* :mod:`~visionkit.metrics.segmentation` -- confusion matrix -> IoU, mIoU, pixel and class accuracy.
* :mod:`~visionkit.metrics.classification` -- accuracy, top-k, confusion matrix.
* :mod:`~visionkit.metrics.caption` -- corpus BLEU-1..4 and CIDEr-D as in coco-caption.
* :mod:`~visionkit.metrics.fid` -- Frechet distance between feature Gaussians (FID).

Submodules are imported on use (``from visionkit.metrics.voc import voc_evaluate``) so that
importing one metric does not pull in the dependencies of the others.
"""
