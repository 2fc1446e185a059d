"""Every code block in README.md and docs/ that is meant to run is run here.

- A ```python block runs as a script. When the next block is preceded by ``<!-- output -->``,
  the script's stdout must equal that block.
- A ```bash block runs when each of its commands is ``visionkit ...`` (through the CLI, in
  process) or ``python tools/...`` (a subprocess); ``VAR=value`` prefixes set the environment
  and ``$VAR`` is expanded.
- A block that cannot run here (a long training, torchrun, a GPU, a placeholder path) carries
  ``<!-- not-run: reason -->`` on the line before its fence; a python or bash block with any
  other command and no such marker fails, so no block is skipped silently. The README's
  ``<!-- test-command -->`` block is the command CI itself runs; its ``<!-- main-command -->``
  block runs here without its ``pip install`` step.

Each block runs in its own temporary folder holding links to the repository's ``data/``,
``configs/`` and ``tools/``, so nothing is written to the working tree.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs" / "model_cards").glob("*.md"))]
RUN_LANGS = {"python", "bash", "sh", "shell"}
MARKER = re.compile(r"<!--\s*(not-run:\s*(?P<reason>.*?)|output|main-command|test-command)\s*-->")
FENCE = re.compile(r"^```(\S*)\s*$")
ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    marker: str  # "", "not-run", "output", "main-command", "test-command"
    reason: str = ""
    output: str | None = None  # the expected stdout of a python block

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def parse(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1).lower()
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        prev = next((lines[k].strip() for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        mm = MARKER.fullmatch(prev)
        marker = "" if not mm else mm.group(1).split(":")[0].strip()
        blocks.append(Block(path, start + 1, lang, "\n".join(lines[start + 1:j]) + "\n", marker,
                            (mm.group("reason") or "").strip() if mm else ""))
        i = j + 1
    for a, b in zip(blocks, blocks[1:]):
        if a.lang == "python" and b.marker == "output":
            a.output = b.code
    return blocks


ALL = [b for p in DOCS for b in parse(p)]
RUNNABLE = [b for b in ALL if b.lang in RUN_LANGS]


def commands(code: str) -> list[list[str]]:
    """Shell commands of a block: continuations joined, comments dropped, split at ``&&``."""
    out = []
    for line in code.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        cmd: list[str] = []
        for w in words + ["&&"]:
            if w == "&&":
                if cmd:
                    out.append(cmd)
                cmd = []
            else:
                cmd.append(w)
    return out


def classify(cmd: list[str]) -> str:
    """'visionkit', 'tool', 'pip' or '' (not runnable here)."""
    words = [w for w in cmd if not ENV.match(w)] if cmd and ENV.match(cmd[0]) else cmd
    if not words:
        return ""
    if words[0] == "visionkit":
        return "visionkit"
    if words[0] == "python" and len(words) > 1 and words[1].startswith("tools/"):
        return "tool"
    if words[0] == "pip":
        return "pip"
    return ""


def test_the_documents_hold_blocks_to_run():
    """The parser finds the README's main command and its Python API snippet."""
    readme = [b for b in RUNNABLE if b.path.name == "README.md"]
    assert any(b.marker == "main-command" for b in readme)
    assert any(b.marker == "test-command" for b in readme)
    assert any(b.lang == "python" and b.marker == "" for b in readme)


@pytest.mark.parametrize("block", [b for b in RUNNABLE if b.marker in ("not-run", "test-command")], ids=lambda b: b.id)
def test_skipped_blocks_say_why(block):
    if block.marker == "not-run":
        assert len(block.reason) >= 10, f"{block.id}: <!-- not-run: ... --> needs a reason"


def _workspace(tmp_path: Path) -> Path:
    for name in ("data", "configs", "tools"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    return tmp_path


def _env_and_argv(cmd: list[str]) -> tuple[dict[str, str], list[str]]:
    env, i = {}, 0
    while i < len(cmd) and ENV.match(cmd[i]):
        key, value = cmd[i].split("=", 1)
        env[key] = value
        i += 1
    return env, cmd[i:]


def _run_command(cmd: list[str], cwd: Path, monkeypatch) -> None:
    env, argv = _env_and_argv(cmd)
    for key, value in env.items():
        if key == "VISIONKIT_DATA":  # docs write a relative path that holds on the authors' machine
            continue
        monkeypatch.setenv(key, value)
    text = " ".join(argv)
    if "$VISIONKIT_DATA" in text or "VISIONKIT_DATA" in env:
        if not os.environ.get("VISIONKIT_DATA"):
            pytest.skip("needs the real data sets: set VISIONKIT_DATA")
    argv = [os.path.expandvars(a) for a in argv]
    if argv[0] == "visionkit":
        from visionkit.cli import main

        assert main(argv[1:]) == 0, f"`{' '.join(argv)}` failed"
    else:
        proc = subprocess.run([sys.executable, *argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0, f"`{' '.join(argv)}` failed:\n{proc.stderr[-2000:]}"


@pytest.mark.parametrize("block", [b for b in RUNNABLE if b.marker not in ("not-run", "test-command")], ids=lambda b: b.id)
def test_block_runs(block, tmp_path, monkeypatch):
    cwd = _workspace(tmp_path)
    monkeypatch.chdir(cwd)
    if block.lang == "python":
        proc = subprocess.run([sys.executable, "-c", block.code], cwd=cwd, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0, f"{block.id} failed:\n{proc.stderr[-2000:]}"
        if block.output is not None:
            assert proc.stdout.strip() == block.output.strip(), f"{block.id}: the output shown is not what it prints"
        return
    cmds = commands(block.code)
    kinds = [classify(c) for c in cmds]
    bad = [" ".join(c) for c, k in zip(cmds, kinds) if not k or (k == "pip" and block.marker != "main-command")]
    assert not bad, (f"{block.id}: cannot run {bad[0]!r} here; show a visionkit or python tools/ command, "
                     "or put <!-- not-run: reason --> on the line before the block")
    for cmd, kind in zip(cmds, kinds):
        if kind != "pip":  # the main command's install step: the tests run inside the install
            _run_command(cmd, cwd, monkeypatch)


def test_the_checker_flags_an_unmarked_block_and_reads_markers(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("<!-- not-run: a long training here -->\n```bash\ntorchrun tools/train.py c.yaml\n```\n\n"
                   "```bash\ncp a b && visionkit models\n```\n\n```python\nprint(1)\n```\n<!-- output -->\n```text\n1\n```\n")
    skipped, unmarked, script, _ = parse(doc)
    assert (skipped.marker, skipped.reason) == ("not-run", "a long training here")
    assert unmarked.marker == "" and [classify(c) for c in commands(unmarked.code)] == ["", "visionkit"]
    assert script.output == "1\n"
    assert commands("VISIONKIT_DATA=d python tools/x.py \\\n  --n 2   # note\n") == [["VISIONKIT_DATA=d", "python", "tools/x.py", "--n", "2"]]
    assert classify(["VISIONKIT_DATA=d", "python", "tools/x.py"]) == "tool"
