"""Training speed of one config under each numeric mode, in one run: float32 and bfloat16
autocast (``train.amp``), each in NCHW and channels-last (``train.channels_last``).

    python tools/bench_train_step.py configs/yolov1_paper_bccd.yaml data.batch_size=4 --steps 8

Each mode is a real training run of the engine (:class:`visionkit.engine.trainer.Trainer`:
the config's data loader, augmentation, loss, optimizer and clipping) for ``2 × steps``
optimizer steps. Only the second half is timed, from the images/s the trainer logs, so
start-up, first-call allocation and kernel selection are left out. It prints images/s,
seconds per step, each mode's speed relative to float32 NCHW, and the last logged loss. On a
CPU without native bfloat16 the bf16 rows are skipped (the engine would train in float32).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visionkit.bench import machine  # noqa: E402
from visionkit.config import load_config  # noqa: E402
from visionkit.engine.device import cpu_has_bf16, resolve_device  # noqa: E402
from visionkit.errors import run_script  # noqa: E402
from visionkit.utils.io import atomic_write_text  # noqa: E402

MODES = {"fp32": ("off", False), "fp32 channels-last": ("off", True), "bf16": ("bf16", False), "bf16 channels-last": ("bf16", True)}


def time_mode(config: str, overrides: list[str], amp: str, channels_last: bool, steps: int, workdir: Path) -> dict:
    """Train ``2 × steps`` steps in one mode; the second half's images/s and loss."""
    from visionkit.engine.trainer import Trainer

    name = f"{amp}_{'cl' if channels_last else 'nchw'}"
    cfg = load_config(config, [*overrides, f"name={name}", f"out_dir={workdir}", f"train.amp={amp}",
                               f"train.channels_last={channels_last}", f"train.max_steps={2 * steps}",
                               f"train.log_every={steps}", "train.eval_every=0", "train.plots=false",
                               "train.resume=", "train.ckpt_every=0", "data.val=", "quiet=true"])  # no evaluation
    Trainer(cfg).fit()
    with open(workdir / name / "metrics.csv") as f:
        rows = [r for r in csv.DictReader(f) if r.get("img_s")]
    timed = rows[-1]
    img_s = float(timed["img_s"])
    # the last logged loss: "loss", or the first of a model's own (a GAN logs loss_d and loss_g)
    key = "loss" if timed.get("loss") else next(k for k in timed if k.startswith("loss") and timed[k])
    return {"images_s": img_s, "s_per_step": cfg.data.batch_size / img_s, "loss": float(timed[key]), "loss_name": key}


def bench(config: str, overrides: list[str], steps: int = 8, modes=tuple(MODES)) -> dict:
    cfg = load_config(config, overrides)
    device = resolve_device(cfg.train.device)
    skipped = []
    if device.type == "cpu" and not cpu_has_bf16():
        skipped = [m for m in modes if MODES[m][0] == "bf16"]
        modes = [m for m in modes if m not in skipped]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mode in modes:
            amp, cl = MODES[mode]
            rows[mode] = time_mode(config, overrides, amp, cl, steps, Path(tmp))
    base = rows[next(iter(rows))]["images_s"]
    for row in rows.values():
        row["speed_vs_first"] = row["images_s"] / base
    return {"config": config, "overrides": overrides, "batch_size": cfg.data.batch_size, "device": str(device),
            "machine": machine(str(device)), "timed_steps": steps, "rows": rows, "skipped": skipped}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config")
    ap.add_argument("overrides", nargs="*", help="key=value config overrides")
    ap.add_argument("--steps", type=int, default=8, help="timed optimizer steps per mode (as many again warm up)")
    ap.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, from: {', '.join(MODES)}")
    ap.add_argument("--out", default="", help="also write the numbers as JSON here")
    args = ap.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        ap.error(f"unknown mode(s) {', '.join(unknown)}; valid: {', '.join(MODES)}")
    result = bench(args.config, args.overrides, max(args.steps, 1), modes)
    print(f"{result['config']} {' '.join(result['overrides'])}: batch {result['batch_size']}, {result['timed_steps']} timed steps per mode")
    print(f"machine: {result['machine']}")
    first = next(iter(result["rows"]))
    print(f"{'mode':20s} {'images/s':>9s} {'s/step':>8s} {f'vs {first}':>12s} {result['rows'][first]['loss_name']:>9s}")
    for mode, r in result["rows"].items():
        print(f"{mode:20s} {r['images_s']:9.2f} {r['s_per_step']:8.2f} {r['speed_vs_first']:11.2f}x {r['loss']:9.4f}")
    for mode in result["skipped"]:
        print(f"{mode:20s} skipped: this CPU has no native bf16")
    if args.out:
        atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    run_script(main)
