"""Train from a YAML config: ``python tools/train.py CONFIG [key=value ...] [--resume PATH|auto]``
(the same entry as ``visionkit train``; works under ``torchrun --nproc_per_node N``)."""
import sys

from visionkit.cli import main

sys.exit(main(["train", *sys.argv[1:]]))
