"""engine.sla's core stays pure: its own modules, the standard library and `holidays`, nothing else.

Only the modules that put clocks into the product (tables, rows, the save hook) may use SQLAlchemy and the kernel;
import-linter keeps the facade out of all of them."""

import ast
import sys
from pathlib import Path

import pytest

from engine.sla.bench import bench_due

PACKAGE = Path(__file__).resolve().parents[3] / "engine" / "sla"
ALLOWED = {"holidays"}
PRODUCT_MODULES = {"models.py": {"sqlalchemy", "engine"}, "store.py": {"sqlalchemy"},
                   "service.py": {"sqlalchemy", "engine"},
                   "actions.py": {"SpiffWorkflow", "sqlalchemy", "engine"}, "agreements.py": {"sqlalchemy", "engine"},
                   "mailing.py": {"sqlalchemy", "engine"}}


def imported(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_imports_only_the_standard_library_and_holidays(path):
    allowed = ALLOWED | PRODUCT_MODULES.get(path.name, set())
    outside = [name for name in imported(path)
               if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] not in allowed]
    assert outside == []


def test_the_layering_check_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "leaky.py"
    module.write_text("import flask\nfrom engine.core import timers\nfrom .calendar import due\n")
    assert list(imported(module)) == ["flask", "engine.core"]


def test_bench_due_runs_and_is_fast():
    assert 0 < bench_due(n=5_000, seed=1) < 200
