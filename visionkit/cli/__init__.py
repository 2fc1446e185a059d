"""The ``visionkit`` command line: a thin click layer over the Python API.

Sub-commands live one module each in this package and are imported only when used, so
``visionkit --help`` stays fast. A :class:`~visionkit.errors.UserError` anywhere below is
printed as one line, ``error: ...``, with a non-zero exit and no traceback.
"""

from __future__ import annotations

import errno
import importlib
import sys

import click

from .. import __version__
from ..errors import UserError, closest

# verb -> ("module:function" relative to visionkit.cli, one-line help shown by --help).
# `visionkit --help` reads only this table, so it never imports torch. Add new verbs here.
COMMANDS: dict[str, tuple[str, str]] = {
    "models": ("zoo:models", "Table of every registered backbone and model."),
    "summary": ("zoo:summary", "Per-layer output shapes, parameters and multiply-adds of a model."),
    "weights": ("weights:weights", "List and install pretrained weight files (offline)."),
    "score": ("score:score", "Score saved predictions (COCO/VOC mAP, mIoU) without a model."),
    "data": ("data:data", "Check, split and convert data sets (VOC, COCO, YOLO, masks)."),
    "train": ("train:train", "Train from a YAML config (as tools/train.py) or from a data folder (--data DIR --model NAME)."),
    "eval": ("train:evaluate", "Evaluate a trained checkpoint on a data split."),
    "detect": ("predict:detect", "Detect objects in images, folders, globs or videos."),
    "segment": ("predict:segment", "Segment images, folders, globs or videos."),
    "caption": ("predict:caption", "Caption images (Show and Tell)."),
    "export": ("export:export", "Export a trained model to ONNX or TorchScript."),
    "generate": ("generate:generate", "Sample image grids or latent walks from a trained GAN."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)

    def format_commands(self, ctx, formatter):
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as e:
            if args and args[0] not in COMMANDS:
                hint = closest(args[0], COMMANDS)
                if hint:
                    raise click.UsageError(f"No such command {args[0]!r}; did you mean {hint!r}?", ctx) from None
            raise e


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="visionkit")
def cli():
    """visionkit: detection, segmentation, generation and captioning with the landmark CNNs.

    \b
    Examples:
      visionkit models                       list backbones and models
      visionkit summary vgg16 --input 3x224x224
      visionkit weights list                 pretrained files known offline
    """


# the machine's fault, not the program's: a full disk, a read-only or forbidden output folder
WRITE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EFBIG}


def main(argv=None) -> int:
    """Console-script entry: run the CLI, turning user errors into one-line messages."""
    try:
        rv = cli.main(args=argv, prog_name="visionkit", standalone_mode=False)
    except UserError as e:
        click.echo(f"error: {e}", err=True)
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as e:
        if e.errno not in WRITE_ERRNOS:
            raise  # anything else is a bug and keeps its traceback
        where = e.filename or "output"
        click.echo(f"error: {where}: {e.strerror or e} (nothing half-written was left; earlier outputs are intact)", err=True)
        return 1
    # a command may return an int exit status (e.g. 1 when some inputs of a batch were bad)
    return rv if isinstance(rv, int) else 0


def run() -> None:  # pragma: no cover - console script
    sys.exit(main())
