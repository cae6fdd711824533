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


# Inside controller/, lower tiers may be imported by higher ones, never the other way;
# within a tier only the pairs in CONTROLLER_SIDEWAYS. DESIGN.md section 4.
CONTROLLER_TIERS: tuple[frozenset[str], ...] = (
    frozenset({"errors"}),
    frozenset({"settings", "bridge", "metrics", "sealing", "policy", "permissions", "csvsafe",
               "validation"}),
    frozenset({"store"}),
    frozenset({"audit", "system"}),
    frozenset({"accounts"}),
    frozenset({"operations", "alerts", "compliance", "search"}),  # none of them uses another
    frozenset({"capture", "overview"}),  # overview reads operations, compliance, search, alerts
    frozenset({"jobs"}),
    frozenset({"runtime", "app"}),
    frozenset({"demo"}),
    frozenset({"cli", "__main__", "commands"}),
)
CONTROLLER_SIDEWAYS = frozenset({
    ("policy", "settings"),  # the policy's rules read the retention settings
    ("sealing", "settings"),  # the instance secret of the settings the environment selects
    ("app", "runtime"),      # the composition root runs the runtime's services
    ("__main__", "cli"),
    ("cli", "commands"),
})
# Capture sits above operations and compliance but uses neither: it uses alerts (hotlist
# matching), and the program status (compliance) is injected into it by the runtime.
CONTROLLER_BARRED = frozenset({("capture", "operations"), ("capture", "compliance")})


def controller_unit(module: str) -> str | None:
    """The unit of ``controller`` a dotted module name belongs to (None: outside it)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "controller" and len(parts) > 1 else None


def controller_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a ``controller`` module in ``path``, at any depth."""
    relative = path.relative_to(ROOT).with_suffix("")
    package = list(relative.parts[:-1])
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):  # function-level and TYPE_CHECKING imports count too
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            # ``from controller import audit`` imports the unit audit.
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "controller"]


def test_controller_layers_point_one_way() -> None:
    tier = {unit: rank for rank, units in enumerate(CONTROLLER_TIERS) for unit in units}
    offences: list[str] = []
    for path in sorted((ROOT / "controller").rglob("*.py")):
        mine = controller_unit(".".join(path.relative_to(ROOT).with_suffix("").parts))
        if mine is None or mine == "__init__":
            continue  # the package's own __init__ imports nothing
        if mine not in tier:
            offences.append(f"{path.relative_to(ROOT)}: unit {mine!r} is in no tier")
            continue
        for line, module in controller_imports(path):
            other = controller_unit(module)
            if other is None or other == mine:
                continue
            where = f"{path.relative_to(ROOT)}:{line} imports {module}"
            if other not in tier:
                # ``from controller.x import name`` names a unit only through x.
                other = controller_unit(module.rsplit(".", 1)[0]) or other
            if other == mine:
                continue
            if other not in tier:
                offences.append(f"{where}: unit {other!r} is in no tier")
            elif (mine, other) in CONTROLLER_BARRED:
                offences.append(f"{where}: {mine} may not use {other}")
            elif tier[other] > tier[mine] or (
                    tier[other] == tier[mine] and (mine, other) not in CONTROLLER_SIDEWAYS):
                offences.append(f"{where}: {mine} (tier {tier[mine]}) may not import "
                                f"{other} (tier {tier[other]})")
    assert offences == [], "\n".join(offences)


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


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports (absolute imports, at any depth), with ``from x import
    y`` also counted as ``x.y`` (``from controller.store import schema``)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return found


def test_only_the_store_imports_sqlalchemy() -> None:
    """DESIGN.md section 4 and 8: all SQL lives in ``controller/store``, which translates
    database errors; no other module of the four packages imports SQLAlchemy (the rest
    of the controller types its engine handle as ``controller.store.Engine``)."""
    store = ROOT / "controller" / "store"
    offenders = {
        str(path.relative_to(ROOT)): sorted({m for m in _imports(path)
                                             if m.split(".")[0] == "sqlalchemy"})
        for package in ("controller", "cameras", "inference", "web")
        for path in sorted((ROOT / package).rglob("*.py"))
        if store not in path.parents
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_schema_has_one_import_path() -> None:
    """Tables are imported from ``controller.store.schema`` only; its ``core`` and
    ``compliance`` modules, where they are defined, are private to the package."""
    schema = ROOT / "controller" / "store" / "schema"
    private = ("controller.store.schema.core", "controller.store.schema.compliance",
               "controller.store.schema.access", "controller.store.schema.flows",
               "controller.store.schema.accountability")
    offenders = {
        str(path.relative_to(ROOT)): sorted({m for m in _imports(path) if m in private})
        for top in ("controller", "web", "tests", "bench", "training")
        for path in sorted((ROOT / top).rglob("*.py"))
        if schema not in path.parents
    }
    assert {k: v for k, v in offenders.items() if v} == {}
