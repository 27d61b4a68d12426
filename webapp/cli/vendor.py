"""Copy the browser builds of our npm packages into webapp/static/vendor (run by `make`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(__file__).resolve().parents[1] / "static" / "vendor"

# (package path under node_modules, destination under static/vendor)
FILES = [
    ("bpmn-js/dist/bpmn-navigated-viewer.production.min.js", "bpmn-js/bpmn-navigated-viewer.min.js"),
    ("bpmn-js/dist/bpmn-modeler.production.min.js", "bpmn-js/bpmn-modeler.min.js"),
    ("bpmn-js/dist/assets", "bpmn-js/assets"),
    ("chart.js/dist/chart.umd.min.js", "chart.js/chart.umd.min.js"),
]


def main() -> int:
    modules = ROOT / "node_modules"
    missing = [src for src, _ in FILES if not (modules / src).exists()]
    if missing:
        print(f"missing in node_modules (run npm install): {', '.join(missing)}", file=sys.stderr)
        return 1
    for src, dest in FILES:
        source, target = modules / src, TARGET / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    print(f"vendor files copied to {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
