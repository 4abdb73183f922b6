"""The import contracts of pyproject.toml hold, modules of one package form no cycle, and no import hides in a function."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_import_contracts_are_kept() -> None:
    done = subprocess.run(
        [BIN / "lint-imports", "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    """The contract is not vacuous: a channel importing a sibling channel is reported."""
    config = (ROOT / "pyproject.toml").read_text()
    src = tmp_path / "parley"
    subprocess.run(["cp", "-r", str(ROOT / "parley"), str(src)], check=True)
    (src / "operators" / "upward.py").write_text(
        '"""A forbidden import."""\n\nfrom parley.buyers import views\n'
    )
    (tmp_path / "pyproject.toml").write_text(config)
    done = subprocess.run(
        [BIN / "lint-imports", "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(tmp_path), "PATH": str(BIN)},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "parley.operators.upward -> parley.buyers.views" in done.stdout


def test_no_module_cycles_inside_a_package() -> None:
    graph = grimp.build_graph("parley")
    modules = sorted(m for m in graph.modules if ".migrations" not in m and m.count(".") >= 2)
    cycles = [
        (a, b)
        for a in modules
        for b in graph.find_modules_directly_imported_by(a)
        if a < b and a.split(".")[1] == b.split(".")[1] and graph.chain_exists(importer=b, imported=a)
    ]
    assert cycles == []


def test_no_import_inside_a_function() -> None:
    done = subprocess.run(
        [BIN / "ruff", "check", "--select", "PLC0415", "--output-format", "concise", "parley"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout


HOT_PATH_SQL = {"parley.core.driver", "parley.core.inserts", "parley.core.prepared"}


def test_hot_path_sql_is_used_only_by_store_modules() -> None:
    graph = grimp.build_graph("parley")
    importers = {
        (importer, module)
        for module in HOT_PATH_SQL
        for importer in graph.find_modules_that_directly_import(module)
        if importer not in HOT_PATH_SQL
    }
    assert sorted(i for i, _ in importers if not i.endswith(".store")) == []
    assert {i for i, _ in importers} == {
        "parley.conversations.store",
        "parley.delivery.store",
        "parley.mailgate.store",
        "parley.marketplace.store",
    }
