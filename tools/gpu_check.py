"""Exercise every CUDA path of visionkit in a few minutes, each step timed and reported.

    bash tools/gpu_check.sh                        # on a GPU machine: install, then every step (<= 8 min)
    bash tools/gpu_check.sh --device cpu --quick   # the same steps on the CPU, 1 step each (no install)
    python tools/gpu_check.py --only 'train:lenet5*' --device cpu --quick

Each step is a child process (the public CLI: ``tools/train.py``, ``python -m visionkit
eval|detect|segment|export``, ``torchrun``; or a task of ``tools/gpu_check_tasks.py``) with its
own time limit, cut further by the run's ``--budget``; a failure is recorded with its error line
and the run goes on. Independent steps run ``--jobs`` at a time; the benchmark runs last and
alone. The summary (``summary.md``, ``summary.json``, ``logs.txt`` with each step's last lines)
goes to ``--out``, else ``$OUT`` when set, else ``runs/gpu_check``; the markdown is also printed.
Every preset trains on tiny generated data (``VISIONKIT_DATA`` points at it) with
``model.pretrained=false``: the device machine has neither the shared data nor the ImageNet
weights. Exit status 1 when a step failed.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional, Union

ROOT = Path(__file__).resolve().parent.parent
TASKS = str(ROOT / "tools" / "gpu_check_tasks.py")
WHEELS = ROOT / ".whl"  # wheels carried to a machine without a network (tools/gpu_check.sh --fetch-wheels)
PY = sys.executable

# preset -> its own overrides for the tiny data. The captions subset's config holds out
# "train[-50:]" for validation; the tiny set has 8 training images, so it validates on test.
PRESETS = {
    "lenet5_fashion_mnist": [],
    "yolov1_bccd": ["model.pretrained=false"],
    "faster_rcnn_bccd": ["model.pretrained=false"],
    "fast_rcnn_bccd": ["model.pretrained=false"],
    "rcnn_bccd": ["model.pretrained=false"],
    "fcn8s_camvid": ["model.pretrained=false"],
    "smp_unet_camvid": ["model.pretrained=false"],
    "show_tell_coco_captions": ["model.pretrained=false", "data.train=train", "data.val=test"],
    "dcgan_fashion_mnist": [],  # + eval.fid_weights: the LeNet-5 trained first (phase 2)
}
FID_FROM = "lenet5_fashion_mnist"
BENCH_S = 90  # limit of each benchmark step
BENCH_RESERVE_S = 120  # the last seconds of --budget, kept for the benchmark


@dataclass
class Step:
    name: str
    cmd: Union[list, Callable[[], list]]  # a callable is resolved when the step starts (it may read earlier results)
    timeout: float
    phase: int = 1  # 0 setup (one at a time); 1, 2, 3 in parallel, each after the last; 4 benchmark (alone)
    expect: list = field(default_factory=list)  # files that must exist after exit 0
    skip: Union[str, Callable[[], str]] = ""  # a reason (or a callable giving one when the step starts): reported as SKIP


@dataclass
class Result:
    name: str
    status: str  # PASS | FAIL | SKIP
    seconds: float
    timeout: float
    error: str = ""
    note: str = ""
    cmd: str = ""
    log: str = ""


GENERIC = ("subprocess-exited-with-error", "metadata-generation-failed", "encountered error", "see above")


def error_line(text: str) -> str:
    """The line of a failed step's output that says what went wrong: the last exception line
    (``ValueError: ...``) or ``error: ...`` line that is not one of pip's generic trailers, else
    the last line naming an error, else the last non-empty line."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    named = [ln for ln in lines if "error" in ln.lower() or "exception" in ln.lower() or ln.lower().startswith("killed")]
    specific = [ln for ln in named if re.match(r"^(error|ERROR)\b|^[\w.]*(Error|Exception)\b", ln)
                and not any(g in ln.lower() for g in GENERIC)]
    return ((specific or named or lines or [""])[-1])[:300]


def metrics_note(text: str) -> str:
    """The first metrics of the last JSON object a step printed (``tools/train.py`` prints its
    summary, ``visionkit eval`` its metrics), e.g. ``mAP 0.0012, F1 0.01``."""
    dec = json.JSONDecoder()
    for i in reversed([i for i, ln in enumerate(text.splitlines()) if ln == "{"]):
        try:
            obj, _ = dec.raw_decode("\n".join(text.splitlines()[i:]))
        except ValueError:
            continue
        metrics = obj.get("metrics", obj) if isinstance(obj, dict) else {}
        shown = [f"{k} {v:.4g}" for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return ", ".join(shown[:3])
    return ""


class Check:
    """The steps, the shared state they read (work folder, earlier results) and the runner."""

    def __init__(self, args):
        self.args, self.cuda = args, args.device == "cuda"
        self.work = Path(args.work or tempfile.mkdtemp(prefix="visionkit_gpu_check_"))
        self.data, self.runs = self.work / "data", self.work / "runs"
        self.results: dict[str, Result] = {}
        self.machine: dict = {}
        self.bench: list = []
        self.order: list[str] = []  # step names as declared: the summary's row order
        self.samples = sorted(str(p) for p in (ROOT / "data" / "samples").glob("*.jpg"))
        self.out: Optional[Path] = None  # the summary folder, rewritten after each step when set
        self.start = time.monotonic()
        self.deadline = self.start + args.budget  # of the steps before the benchmark: see execute()
        self.lock = threading.Lock()
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
                        VISIONKIT_DATA=str(self.data), VISIONKIT_CACHE=str(self.work / "cache"),
                        MPLBACKEND="Agg", PYTHONUNBUFFERED="1")

    # ------------------------------------------------------------------------ steps

    def amps(self) -> list[tuple[str, str]]:
        """(amp, reason to skip) for the training matrix: fp16 and bf16 on CUDA; on the CPU also
        float32, and each AMP mode skipped where the engine would fall back to float32."""
        if self.cuda:
            return [("fp16", ""), ("bf16", "" if self.machine.get("gpu_bf16", True) else "this GPU has no bf16")]
        bf16 = "" if self.machine.get("cpu_native_bf16") else "this CPU has no native bf16 (the engine would run float32)"
        return [("off", ""), ("fp16", "fp16 autocast needs CUDA (the engine runs float32 on the CPU)"), ("bf16", bf16)]

    def train_cmd(self, preset: str, run: str, amp: str, extra=(), launcher=None) -> list:
        """``tools/train.py`` on the tiny data: ``runs/<preset>_<run>``, ``--steps`` steps, then
        one evaluation of the val split (the trainer's own, on the same device)."""
        a = self.args
        cmd = (launcher or [PY]) + [ROOT / "tools" / "train.py", ROOT / "configs" / f"{preset}.yaml", f"name={preset}_{run}",
                                    f"out_dir={self.runs}", f"train.device={a.device}", f"train.amp={amp}",
                                    f"train.max_steps={a.steps}", "train.log_every=1", "train.eval_every=0",
                                    "train.plots=false", f"data.workers={0 if a.quick else 2}", "quiet=true",
                                    *PRESETS[preset], *extra]
        return cmd + ["data.batch_size=2"] if a.quick else cmd

    def checkpoint(self, preset: str) -> Optional[Path]:
        """last.pt of the first passed training run of ``preset``."""
        for amp, _ in self.amps():
            r = self.results.get(f"train:{preset}:{amp}")
            if r and r.status == "PASS":
                return self.runs / f"{preset}_{amp}" / "last.pt"
        return None

    def fid(self) -> list:
        ckpt = self.checkpoint(FID_FROM)
        return [f"eval.fid_weights={ckpt}"] if ckpt else ["eval.fid_weights=missing-lenet5-checkpoint.pt"]

    def status(self, name: str) -> str:
        r = self.results.get(name)
        return r.status if r else ""

    def selected(self, steps: list[Step]) -> list[Step]:
        return [s for s in steps if not self.args.only or any(fnmatch.fnmatch(s.name, pat) for pat in self.args.only)]

    def setup_steps(self) -> list[Step]:
        """Install, imports, machine, tiny data: one after the other, before everything else."""
        a, slow = self.args, 3 if self.args.quick else 1  # a shared CPU imports torch slowly
        out: list[Step] = []
        if a.install:
            # offline (--no-index): the GPU image has no network, and a reachable index would
            # replace the image's own CUDA build of torch with the pinned one, gigabytes later
            pip = [PY, "-m", "pip", "install", "--disable-pip-version-check", "--no-index"]
            wheels = sorted(str(p) for p in WHEELS.glob("*.whl"))
            out.append(Step("install-wheels", pip + ["--no-deps", *wheels], 120, phase=0,
                            skip="" if wheels else "no .whl/ folder (bash tools/gpu_check.sh --fetch-wheels makes one)"))
            found = ["--find-links", str(WHEELS)] if wheels else []
            out.append(Step("install", pip + found + ["--no-build-isolation", "-e", str(ROOT)], 120, phase=0))
            out.append(Step("install-nodeps", pip + ["--no-deps", "--no-build-isolation", "-e", str(ROOT)], 120, phase=0,
                            skip=lambda: "install passed" if self.status("install") == "PASS" else ""))
        imports = "; ".join(f"import {m}" for m in ("torch", "torchvision", "cv2", "albumentations", "pycocotools",
                                                    "segmentation_models_pytorch", "skimage", "scipy", "onnx", "onnxruntime"))
        out.append(Step("deps", [PY, "-c", imports + "; import visionkit.cli; print('ok')"], 60 * slow, phase=0))
        out.append(Step("machine", [PY, TASKS, "machine", str(self.work / "machine.json")], 60 * slow, phase=0,
                        expect=[self.work / "machine.json"]))
        out.append(Step("data", [PY, TASKS, "data", str(self.data)], 60 * slow, phase=0, expect=[self.data / "bccd"]))
        return self.selected(out)

    def work_steps(self) -> list[Step]:
        """Everything after the setup (which tells :meth:`amps` what the machine supports)."""
        a, q, dev = self.args, self.args.quick, self.args.device
        vk = [PY, "-m", "visionkit"]
        t_train, t_eval, t_pred = (600, 300, 240) if q else (120, 90, 90)
        out: list[Step] = []
        for preset in PRESETS:
            gan = preset.startswith("dcgan")  # needs the LeNet-5 checkpoint: trained in phase 2
            for amp, why in self.amps():
                cl = [] if amp == "off" else ["train.channels_last=true"]
                out.append(Step(f"train:{preset}:{amp}",
                                lambda p=preset, m=amp, c=cl, g=gan: self.train_cmd(p, m, m, [*c, *(self.fid() if g else [])]),
                                t_train, 2 if gan else 1, expect=[self.runs / f"{preset}_{amp}" / "last.pt"], skip=why))
        for preset in PRESETS:
            out.append(Step(f"eval:{preset}", lambda p=preset: self.eval_cmd(p), t_eval, 3 if preset.startswith("dcgan") else 2,
                            expect=[self.work / f"eval_{preset}.json"]))
        samples = self.samples
        for verb in ("detect", "segment"):
            folder = self.work / verb
            out.append(Step(verb, vk + [verb, *samples, "--device", dev, "--batch", "2", "--quiet", "--out", folder],
                            t_pred, expect=[folder / ("predictions.json" if verb == "detect" else f"{Path(samples[0]).stem}_mask.png")]))
        torchrun = Path(PY).parent / "torchrun"  # the one of this Python; `python -m torch.distributed.run` is the same
        runner = [torchrun] if torchrun.is_file() else [PY, "-m", "torch.distributed.run"]
        ddp = runner + ["--nproc_per_node", "1", "--standalone"]
        amp = "bf16" if self.cuda else "off"
        out.append(Step("ddp:yolov1_bccd", self.train_cmd("yolov1_bccd", "ddp", amp, launcher=ddp), t_train + 60,
                        expect=[self.runs / "yolov1_bccd_ddp" / "last.pt"]))
        out.append(Step("ddp:dcgan_fashion_mnist", lambda: self.train_cmd("dcgan_fashion_mnist", "ddp", amp, self.fid(), ddp),
                        t_train + 60, phase=2, expect=[self.runs / "dcgan_fashion_mnist_ddp" / "last.pt"]))
        for fmt, suffix in (("onnx", ".onnx"), ("torchscript", ".torchscript.pt")):
            target = self.work / f"default_detector{suffix}"
            out.append(Step(f"export:{fmt}", vk + ["export", "--weights", "default-detector", "--format", fmt, "--out", target],
                            t_pred, expect=[target]))
        batches = ["1", "2"] if q else ["1", "32"]
        for name in ("default-detector", "default-segmenter"):
            out.append(Step(f"bench:{name}", [PY, TASKS, "bench", name, "--device", dev, "--batches", *batches,
                                              "--passes", "1" if q else "5", "--warmup", "1" if q else "3",
                                              "--out", self.work / f"bench_{name}.json"],
                            240 if q else BENCH_S, phase=4, expect=[self.work / f"bench_{name}.json"]))
        return self.selected(out)

    def eval_cmd(self, preset: str) -> list:
        """``visionkit eval`` of the preset's first passed training run on the test split."""
        ckpt = self.checkpoint(preset)
        if ckpt is None:
            return []
        return [PY, "-m", "visionkit", "eval", ROOT / "configs" / f"{preset}.yaml", "--weights", ckpt, "--split", "test",
                "--out", self.work / f"eval_{preset}.json", f"train.device={self.args.device}", "data.workers=0",
                "quiet=true", *PRESETS[preset], *(self.fid() if preset.startswith("dcgan") else [])]

    # ----------------------------------------------------------------------- running

    def run(self, step: Step) -> Result:
        """Run one step in its own process group (so that a timeout also ends torchrun's
        workers and the data loaders) and record PASS, FAIL or SKIP."""
        end = self.start + self.args.budget if step.phase == 4 else self.deadline
        left = end - time.monotonic()
        skip = step.skip() if callable(step.skip) else step.skip
        if skip:
            return self._record(Result(step.name, "SKIP", 0.0, step.timeout, note=skip))
        if left < 5:
            return self._record(Result(step.name, "SKIP", 0.0, step.timeout, note=f"over the run's --budget of {self.args.budget:.0f} s"))
        cmd = [str(c) for c in (step.cmd() if callable(step.cmd) else step.cmd)]
        if not cmd:
            return self._record(Result(step.name, "SKIP", 0.0, step.timeout, note="no checkpoint: its training did not pass"))
        limit = min(step.timeout, left)
        log = self.work / "logs" / f"{step.name.replace(':', '_')}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        with open(log, "w") as f:
            f.write(" ".join(cmd) + "\n\n")
            f.flush()
            p = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                rc = p.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                rc = None
        dt = time.monotonic() - t0
        text = log.read_text(errors="replace")
        missing = [str(f) for f in step.expect if not Path(f).exists()]
        if rc is None:
            status, err = "FAIL", f"killed: over its time limit of {limit:.0f} s ({error_line(text)})"
        elif rc == 0 and not missing:
            status, err = "PASS", ""
        elif rc == 0:
            status, err = "FAIL", f"exit 0 but {', '.join(missing)} is missing"
        else:
            status, err = "FAIL", error_line(text) or f"exit status {rc}"
        note = self.note(step, text) if status == "PASS" else ""
        return self._record(Result(step.name, status, round(dt, 1), round(limit), err, note, " ".join(cmd), str(log)))

    def note(self, step: Step, text: str) -> str:
        """What a passed step showed: its metrics, the export's difference from PyTorch, the
        number of detections."""
        kind = step.name.split(":")[0]
        if kind in ("train", "eval"):
            return metrics_note(text)
        if kind == "ddp":
            return f"torchrun, world size 1, {'NCCL' if self.cuda else 'Gloo'}; {metrics_note(text)}"
        if kind == "export":
            return next((ln.strip() for ln in reversed(text.splitlines()) if ln.startswith("max |")), "")
        if kind == "detect":
            return f"{len(json.loads(Path(step.expect[0]).read_text()))} boxes in {len(self.samples)} images"
        return ""

    def _record(self, r: Result) -> Result:
        with self.lock:
            self.results[r.name] = r
            print(f"[{r.status}] {r.name} {r.seconds:.1f}s {r.error or r.note}", flush=True)
            if self.out is not None:  # after every step: a run cut short still leaves its summary
                write_report(self, self.out, time.monotonic() - self.start)
        return r

    def execute(self) -> None:
        setup = self.setup_steps()
        self.order = [s.name for s in setup]
        for step in setup:
            self.run(step)
            if step.name == "machine" and (self.work / "machine.json").is_file():
                self.machine = json.loads((self.work / "machine.json").read_text())
        steps = self.work_steps()
        self.order += [s.name for s in steps]
        if any(s.phase == 4 for s in steps):
            self.deadline -= BENCH_RESERVE_S
        for phase in (1, 2, 3):
            with ThreadPoolExecutor(max_workers=max(self.args.jobs, 1)) as pool:
                list(pool.map(self.run, [s for s in steps if s.phase == phase]))
        for step in (s for s in steps if s.phase == 4):  # alone: nothing else loads the machine
            if self.run(step).status == "PASS":
                self.bench += json.loads(Path(step.expect[0]).read_text())


# ---------------------------------------------------------------------------- report


def summary(check: Check, seconds: float) -> dict:
    order = {name: i for i, name in enumerate(check.order)}  # as declared, whatever order they finished in
    res = sorted(check.results.values(), key=lambda r: order.get(r.name, len(order)))
    counts = {s: sum(r.status == s for r in res) for s in ("PASS", "FAIL", "SKIP")}
    return {"device": check.args.device, "quick": check.args.quick, "seconds": round(seconds, 1),
            "budget_s": check.args.budget, "counts": counts, "machine": check.machine,
            "steps": [asdict(r) for r in res], "bench": check.bench}


def markdown(s: dict) -> str:
    m = s["machine"]
    keys = ("gpu", "gpu_memory_gib", "gpu_capability", "driver", "cuda", "cudnn", "nccl", "torch", "torchvision",
            "onnxruntime", "cpu", "cpu_count", "cpu_capability", "cpu_native_bf16", "python", "visionkit")
    lines = [f"# visionkit GPU check: device {s['device']}{' (quick)' if s['quick'] else ''}", "",
             "machine: " + "; ".join(f"{k} {m[k]}" for k in keys if m.get(k) is not None), "",
             f"{s['counts']['PASS']} PASS, {s['counts']['FAIL']} FAIL, {s['counts']['SKIP']} SKIP "
             f"in {s['seconds']:.0f} s (budget {s['budget_s']:.0f} s)", "",
             "| step | status | s | limit s | error / note |", "|---|---|---|---|---|"]
    for r in s["steps"]:
        text = (r["error"] or r["note"]).replace("|", "\\|")
        lines.append(f"| {r['name']} | {r['status']} | {r['seconds']:.1f} | {r['timeout']:.0f} | {text} |")
    if s["bench"]:
        lines += ["", "| model | batch | path | input | ms / batch | images/s |", "|---|---|---|---|---|---|"]
        lines += [f"| {b['model']} | {b['batch']} | {b['path']} | {b['input']} | {b['ms_per_batch']} | "
                  f"{b['images_per_s'] if b['images_per_s'] is not None else 'FAIL: ' + b.get('error', '')} |" for b in s["bench"]]
    return "\n".join(lines) + "\n"


def write_report(check: Check, out: Path, seconds: float) -> dict:
    s = summary(check, seconds)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(s, indent=1) + "\n")
    (out / "summary.md").write_text(markdown(s))
    tails = []
    for r in (Result(**d) for d in s["steps"]):
        if r.log and Path(r.log).is_file():
            lines = Path(r.log).read_text(errors="replace").splitlines()
            tails.append(f"===== {r.name}: {r.status}\n" + "\n".join(lines[:1] + ["..."] + lines[-40:]))
    (out / "logs.txt").write_text("\n\n".join(tails) + "\n")
    return s


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    ap.add_argument("--quick", action="store_true", help="batch 2 and 1 step per run, small benchmark (for CPU checks)")
    ap.add_argument("--steps", type=int, help="training steps per run [5; 1 with --quick]")
    ap.add_argument("--jobs", type=int, help="steps run at once after the setup, the benchmark excepted [4 on cuda, 1 on cpu]")
    ap.add_argument("--budget", type=float, help="seconds for the whole run; steps that would start later are skipped "
                    f"[450; 3600 with --quick]; the last {BENCH_RESERVE_S} s are kept for the benchmark")
    ap.add_argument("--install", action=argparse.BooleanOptionalAction, default=None,
                    help="pip install the project first [on with --device cuda, off on cpu]")
    ap.add_argument("--only", nargs="+", help="run only the steps matching these patterns (fnmatch), e.g. 'train:*' detect")
    ap.add_argument("--list", action="store_true", help="print the steps (name, phase, limit, command) and exit")
    ap.add_argument("--out", help="summary folder [$OUT, else runs/gpu_check]")
    ap.add_argument("--work", help="scratch folder for data, runs and logs [a new temporary folder]")
    a = ap.parse_args(argv)
    a.steps = a.steps or (1 if a.quick else 5)
    a.budget = a.budget or (3600.0 if a.quick else 450.0)
    a.jobs = a.jobs or (4 if a.device == "cuda" else 1)
    a.install = a.device == "cuda" if a.install is None else a.install
    return a


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out or os.environ.get("OUT") or ROOT / "runs" / "gpu_check")
    check = Check(args)
    if args.list:
        for step in check.setup_steps() + check.work_steps():
            cmd = step.cmd() if callable(step.cmd) else step.cmd
            skip = step.skip() if callable(step.skip) else step.skip
            shown = f"SKIP: {skip}" if skip else " ".join(map(str, cmd)) if cmd else "(once its training passed)"
            print(f"{step.name:36} phase {step.phase}  {step.timeout:4.0f} s  {shown}")
        return 0
    check.out = out
    try:
        check.execute()
    finally:
        s = write_report(check, out, time.monotonic() - check.start)
    print("\n" + markdown(s), flush=True)
    print(f"summary: {out / 'summary.md'}, {out / 'summary.json'}; step logs: {out / 'logs.txt'} (full logs in {check.work / 'logs'})")
    return 1 if s["counts"]["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
