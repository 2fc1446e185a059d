"""The package's import graph: the import-linter contracts of pyproject.toml hold (layers import
downward only, model families are independent, metrics and the export runtime need no model
code, the low layers import no torch), and no two modules import each other, directly or in a
loop."""

from __future__ import annotations

import graphlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def _graph(package: str) -> grimp.ImportGraph:
    return grimp.build_graph(package, cache_dir=None)


def _cycle(graph: grimp.ImportGraph) -> list[str] | None:
    """One import cycle of ``graph`` (module names, first = last), or None."""
    try:
        graphlib.TopologicalSorter({m: graph.find_modules_directly_imported_by(m) for m in graph.modules}).prepare()
    except graphlib.CycleError as e:
        return e.args[1]
    return None


def test_import_linter_contracts_are_kept():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    report = run.stdout + run.stderr
    assert "Layers import downward only KEPT" in report, report
    assert run.returncode == 0, report  # the broken contract and its import chains are in the report


def test_the_package_has_no_import_cycles():
    cycle = _cycle(_graph("visionkit"))
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_graph_includes_function_local_imports(tmp_path, monkeypatch):
    """What the contracts check: an import inside a function is an edge like any other."""
    pkg = tmp_path / "lazy_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("X = 1\n")
    (pkg / "high.py").write_text(textwrap.dedent("""
        def f():
            from .low import X
            return X
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _graph("lazy_pkg").find_modules_directly_imported_by("lazy_pkg.high") == {"lazy_pkg.low"}


def test_a_cycle_would_be_found(tmp_path, monkeypatch):
    pkg = tmp_path / "loop_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert set(_cycle(_graph("loop_pkg"))) == {"loop_pkg.a", "loop_pkg.b"}
