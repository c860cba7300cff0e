"""The committed notebooks: no outputs, a parameters cell of literals first, thin cells."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
STEMS = ["01_map", "02_breakdown", "03_mitigate", "04_deploy"]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def test_the_four_stages_exist():
    assert [p.stem for p in NOTEBOOKS] == STEMS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    nb = _read(path)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a code cell has outputs"
            assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"
    assert "papermill" not in nb.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_tagged_parameters_with_literal_defaults(path):
    nb = _read(path)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", [])
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1
    tree = ast.parse(first.source)
    names = []
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"{path.name}: only assignments in the parameters cell"
        ast.literal_eval(node.value)  # a literal, so "Run All" and papermill both just work
        names.append(node.targets[0].id)
    assert names[0] == "root" and "out" in names
    defaults = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body}
    if "legacy" in defaults:
        assert defaults["legacy"] == "legacy_app"
    assert defaults["root"] == ".."  # notebooks/ is where JupyterLab runs them
    assert (ROOT / "notebooks" / defaults["root"] / "legacy_app").is_dir()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_are_thin_calls_into_audit(path):
    nb = _read(path)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            # no logic in notebooks: no functions, classes, loops or branches
            assert not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.If, ast.Lambda)), \
                f"{path.name}: logic in a cell:\n{cell.source}"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                assert all(m == "audit" or m.startswith("audit.") for m in modules), f"{path.name}: imports {modules}"
        assert len(cell.source.splitlines()) <= 12


def test_notebooks_are_what_generate_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("generate_notebooks", ROOT / "notebooks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for stem, cells in module.NOTEBOOKS.items():
        built = module.build_notebook(cells)
        assert built == _read(ROOT / "notebooks" / f"{stem}.ipynb"), f"{stem}: run python notebooks/generate.py"
