"""report.py rewrites everything it generates and keeps the hand-written notes at the end."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from loanops.settings import REPO_ROOT

INFO = {"platform": "Linux", "cpu": "AMD EPYC", "cores": "2", "memory": "1 GiB", "python": "3.11"}


def _report() -> ModuleType:
    """benchmarks/report.py as a module (the folder is not a package)."""
    path = Path(REPO_ROOT) / "benchmarks" / "report.py"
    spec = importlib.util.spec_from_file_location("bench_report_notes", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_notes_survive_a_rewrite(tmp_path: Path) -> None:
    report = _report()
    out = tmp_path / "benchmarks.md"
    report.write_report(out, {}, INFO, quick=False, ran=[])
    assert report.NOTES_START not in out.read_text()
    notes = f"{report.NOTES_START}\n\n## Notes\n\n- a figure worth keeping: 1.5 ms\n"
    out.write_text(out.read_text() + "\n" + notes)
    report.write_report(out, {}, INFO, quick=False, ran=["api"])
    text = out.read_text()
    assert text.endswith(notes)
    assert text.count(report.NOTES_START) == 1
    assert "run this time: api" in text
