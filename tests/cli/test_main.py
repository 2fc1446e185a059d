"""The CLI shell: help, version, unknown verbs, one-line user errors."""

import subprocess
import sys

from visionkit import __version__
from visionkit.cli import COMMANDS, main


def test_help_lists_every_verb_without_importing_torch():
    code = "import sys; from visionkit.cli import main; main(['--help']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for verb in ("models", "summary", "weights", "train", "eval", "score", "detect", "segment", "data"):
        assert verb in out
    assert out.strip().endswith("False")


def test_version(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_unknown_verb_suggests_the_closest(capsys):
    assert main(["sumary"]) == 2
    assert "did you mean 'summary'" in capsys.readouterr().err


def test_every_registered_verb_imports():
    from visionkit.cli import cli

    for verb in COMMANDS:
        assert cli.get_command(None, verb) is not None, verb


def test_user_error_is_one_line_with_exit_2(capsys, tmp_path):
    assert main(["train", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing.yaml" in err and "Traceback" not in err


def test_every_config_named_in_help_and_docs_exists():
    """Examples in --help texts, the README and docs/ name configs that ship (``my_*`` marks a
    user's own file)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    texts = [*root.glob("visionkit/**/*.py"), *root.glob("tools/*.py"), root / "README.md", root / "data" / "README.md",
             *root.glob("docs/**/*.md")]
    named = {m for p in texts for m in re.findall(r"configs/[\w./-]+\.yaml", p.read_text(encoding="utf-8"))}
    placeholder = lambda n: Path(n).stem.startswith("my_") or Path(n).stem.isupper()  # noqa: E731  (configs/PRESET.yaml)
    missing = sorted(n for n in named if not (root / n).is_file() and not placeholder(n))
    assert len(named) > 5 and missing == []
