"""The client package stays free of Home Assistant, so it can be published on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import custom_components.ipro_nvr.api as api_package

API_DIR = Path(api_package.__file__).parent


def _imported_modules(tree: ast.AST) -> list[str]:
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # Relative imports keep their dots: one that climbs out of api/
            # reaches the Home Assistant layer.
            modules.append("." * node.level + (node.module or ""))
    return modules


def test_no_module_of_the_client_imports_homeassistant() -> None:
    """Walk every .py under api/ and look at every import, nested ones included."""
    files = sorted(API_DIR.rglob("*.py"))
    assert len(files) >= 10
    offenders = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package_depth = len(path.relative_to(API_DIR).parts)  # 1 for api/x.py
        for module in _imported_modules(tree):
            dots = len(module) - len(module.lstrip("."))
            name = module.lstrip(".")
            if name.split(".")[0] == "homeassistant":
                offenders.append(f"{path.name}: {module}")
            elif dots > package_depth:
                offenders.append(f"{path.name}: {module} (leaves the api package)")
            elif name.startswith("custom_components.") and not name.startswith(
                "custom_components.ipro_nvr.api"
            ):
                offenders.append(f"{path.name}: {module} (the Home Assistant layer)")
    assert offenders == []


def test_the_walk_would_notice_an_import(tmp_path: Path) -> None:
    """The checker itself finds imports hidden in functions and relative climbs."""
    source = "def f():\n    from homeassistant.core import HomeAssistant\n"
    assert "homeassistant.core" in _imported_modules(ast.parse(source))
    assert "..const" in _imported_modules(ast.parse("from ..const import DOMAIN\n"))
