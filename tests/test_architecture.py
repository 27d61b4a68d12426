"""The shape of the code (engine/README.md, webapp/README.md): every module imports on its own, there are no
import cycles anywhere, and modules stay under the size cap. The layer rules themselves are import-linter
contracts run by `make lint`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def _modules() -> list[str]:
    found = []
    for package in ("engine", "webapp"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            parts = list(relative.with_suffix("").parts)
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_every_module_imports_on_its_own():
    """Each module in a fresh interpreter (as `python -c "import X"` would): an import cycle that only bites in
    one import order shows up here."""
    # `import engine.x.y` always runs engine/__init__.py first (and webapp's likewise), so a fresh interpreter
    # importing any one module starts from the two packages' own imports: the parent does those once, then each
    # forked child imports one module from exactly that state (a child per module from scratch takes minutes).
    script = ("import importlib, sys\n"
              "import engine, webapp\n"
              "failed = []\n"
              "for name in sys.argv[1:]:\n"
              "    import os\n"
              "    pid = os.fork()\n"
              "    if pid == 0:\n"
              "        try:\n"
              "            importlib.import_module(name)\n"
              "        except BaseException as err:\n"
              "            print(f'{name}: {err.__class__.__name__}: {err}', flush=True)\n"
              "            os._exit(1)\n"
              "        os._exit(0)\n"
              "    if os.waitpid(pid, 0)[1] != 0:\n"
              "        failed.append(name)\n"
              "sys.exit(1 if failed else 0)\n")
    done = subprocess.run([sys.executable, "-c", script, *_modules()], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_import_cycles_between_any_modules():
    graph = grimp.build_graph("engine", "webapp", exclude_type_checking_imports=True)
    cycles = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    assert cycles == []


def test_modules_stay_under_the_size_cap():
    too_long = {}
    for name in _modules():
        path = ROOT / Path(*name.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            too_long[name] = lines
    assert too_long == {}, f"split these modules (cap {MAX_LINES} lines): {too_long}"
