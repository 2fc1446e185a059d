"""``visionkit export``: a trained checkpoint -> ONNX or TorchScript, checked against PyTorch."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import UserError


@click.command()
@click.option("--weights", "-w", required=True, help="Checkpoint trained with visionkit, or a bundled model name.")
@click.option("--format", "fmt", type=click.Choice(["onnx", "torchscript"]), default="onnx", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Output file (default: next to the weights).")
@click.option("--imgsz", type=int, help="Input size to export at (default: the training size).")
@click.option("--opset", type=int, default=17, show_default=True, help="ONNX opset.")
@click.option("--check/--no-check", default=True, show_default=True, help="Compare the export with PyTorch on a random input.")
@click.option("--int8", is_flag=True, help="ONNX: also write an int8 model (static quantisation, calibrated on --calib).")
@click.option("--calib", help="Calibration images for --int8: a folder or glob (default: the config's training split).")
@click.option("--calib-n", type=click.IntRange(1), default=16, show_default=True,
              help="Calibration images to use (onnxruntime holds all their activations: ~0.3 GB each at 448x448).")
def export(weights, fmt, out, imgsz, opset, check, int8, calib, calib_n):
    """Export a model to ONNX (run with onnxruntime) or TorchScript.

    The file keeps the config, class names and thresholds, so it runs where a checkpoint
    does: `visionkit detect img.jpg --weights model.onnx`, `visionkit eval CONFIG --weights
    model.onnx`. `--int8` also writes model.int8.onnx, quantised after training.
    """
    from ..api import resolve_weights  # lazy: imports torch
    from ..engine.checkpoint import load_checkpoint  # lazy: imports torch
    from ..engine.restore import build_from_checkpoint  # lazy: imports torch
    from ..export import check_export, export_model  # lazy: imports torch
    from ..exported import export_meta  # lazy: imports torch
    from ..registry import model_task  # lazy: imports the registry's config

    if int8 and fmt != "onnx":
        raise UserError("--int8 needs --format onnx (onnxruntime runs the quantised graph)")
    path = resolve_weights(weights)
    ckpt = load_checkpoint(path)
    model, cfg, classes = build_from_checkpoint(ckpt)
    task = getattr(model, "task", "") or model_task(cfg)
    size = imgsz or cfg.data.img_size
    target = Path(out) if out else path.with_suffix(".onnx" if fmt == "onnx" else ".torchscript.pt")
    export_model(model, task, fmt, target, size, opset, meta=export_meta(model, cfg, classes, ckpt))
    h, w = (size, size) if isinstance(size, int) else size
    click.echo(f"exported {path} -> {target} ({fmt}, input 1x3x{h}x{w})")
    if check:
        diff = check_export(model, task, target, size)
        click.echo(f"max |pytorch - {fmt}| on a random input: {diff:.2e}")
        if not diff < 1e-3:
            raise UserError(f"{target}: the export does not reproduce the PyTorch outputs (max difference {diff:.3g})")
    if int8:
        from ..exported import input_hw  # lazy: imports torch
        from ..quantize import calibration_images, quantize_onnx  # lazy: imports torch

        images = calibration_images(cfg, input_hw(size), calib, calib_n)
        q = quantize_onnx(target, target.with_suffix(".int8.onnx"), images)
        click.echo(f"int8 -> {q} (calibrated on {len(images)} images); score it: visionkit eval CONFIG --weights {q}")
