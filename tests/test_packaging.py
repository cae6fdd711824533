"""The installed environment and the package dependency rules of DESIGN.md section 4."""

from __future__ import annotations

import ast
import importlib.metadata as md
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "cameras": {"controller", "web", "inference"},
    "inference": {"controller", "web", "cameras"},
    "web": {"cameras", "inference"},
}


def test_one_opencv_distribution_and_cv2_imports() -> None:
    installed = {d.metadata["Name"].lower() for d in md.distributions()}
    opencv = sorted(n for n in installed if n.startswith("opencv"))
    assert opencv == ["opencv-python-headless"], opencv
    # A fresh interpreter, as an operator's process would be.
    code = "import cv2, numpy; ok, buf = cv2.imencode('.jpg', numpy.zeros((8, 8, 3), 'uint8'))"
    subprocess.run([sys.executable, "-c", code + "; assert ok"], check=True, timeout=60)


def test_console_script_is_installed() -> None:
    scripts = {e.name: e.value for e in md.entry_points(group="console_scripts")}
    assert scripts.get("sightline") == "controller.cli:main"


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_dependencies_point_one_way(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_command_imports_web() -> None:
    importers = sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / "controller").rglob("*.py")
        if "web" in imported_packages(path)
    )
    assert all(p == "controller/cli.py" or p.startswith("controller/commands/")
               for p in importers), importers


def test_web_reaches_data_only_through_use_cases() -> None:
    """DESIGN.md section 4: ``web`` never imports ``controller.store`` nor SQLAlchemy.

    Every use case is a controller function that checks role, purpose and training
    and writes the audit record; a blueprint that reached the store could skip all
    three. ``from controller import store`` counts too.
    """
    forbidden = ("controller.store", "sqlalchemy")

    def offends(module: str) -> bool:
        return any(module == name or module.startswith(name + ".") for name in forbidden)

    offenders: dict[str, list[str]] = {}
    for path in sorted((ROOT / "web").rglob("*.py")):
        found = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [a.name for a in node.names if offends(a.name)]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                module = node.module
                found += [module] if offends(module) else []
                found += [f"{module}.{a.name}" for a in node.names
                          if offends(f"{module}.{a.name}")]
        if found:
            offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}
