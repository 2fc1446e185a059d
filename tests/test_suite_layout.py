"""The test suite's own rule: shared test code lives in ``tests/helpers/`` or a ``conftest.py``,
so no test module imports another test module (a test module's import also collects and runs
nothing, but it couples two files that change for different reasons)."""

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:  # `from tests.cli import test_predict`
                if alias.name.startswith("test_"):
                    yield node.lineno, f"{node.module}.{alias.name}"


def _test_module_imports(root: Path):
    for path in sorted(root.rglob("*.py")):
        for line, module in _imported_modules(path):
            parts = module.split(".")
            if parts[0] == "tests" and any(p.startswith("test_") for p in parts[1:]):
                yield f"{path.relative_to(root.parent)}:{line}: imports {module}"


def test_no_test_module_imports_another_test_module():
    offenders = list(_test_module_imports(TESTS))
    assert not offenders, "move the shared code to tests/helpers/ or a conftest.py:\n" + "\n".join(offenders)


def test_the_check_finds_such_an_import(tmp_path):
    tests = tmp_path / "tests"
    (tests / "cli").mkdir(parents=True)
    (tests / "cli" / "test_x.py").write_text("def helper():\n    pass\n")
    (tests / "test_y.py").write_text("import os\n\n\ndef test_y():\n    from tests.cli.test_x import helper\n")
    (tests / "test_z.py").write_text("from tests.cli import test_x\nfrom tests.helpers.tiny import CLASSES\n")
    assert list(_test_module_imports(tests)) == [
        "tests/test_y.py:5: imports tests.cli.test_x",
        "tests/test_z.py:1: imports tests.cli.test_x",
    ]
