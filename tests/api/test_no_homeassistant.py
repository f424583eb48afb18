"""The client package stays free of Home Assistant, so it can be published on its own.

It is movable as a whole: it imports itself only relatively, and the Home Assistant
layer reaches it only through ``api/__init__.py``. Its ``media/`` package does no I/O.
"""

from __future__ import annotations

import ast
from pathlib import Path

import custom_components.ipro_nvr.api as api_package

API_DIR = Path(api_package.__file__).parent
INTEGRATION_DIR = API_DIR.parent


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


def test_the_client_imports_itself_relatively() -> None:
    """No module under api/ spells the package's own path: api/ can move as a whole."""
    offenders = [
        f"{path.relative_to(API_DIR)}: {module}"
        for path in sorted(API_DIR.rglob("*.py"))
        for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if module.startswith("custom_components.")
    ]
    assert offenders == []


def test_no_media_module_does_io() -> None:
    """api/media parses bytes handed to it: no HTTP client, no decoder."""
    files = sorted((API_DIR / "media").glob("*.py"))
    assert {p.name for p in files} >= {"multipart.py", "rtp.py", "jpeg.py", "audio.py", "live.py"}
    offenders = [
        f"{path.name}: {module}"
        for path in files
        for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if module.split(".")[0] in {"aiohttp", "av"}
    ]
    assert offenders == []


def test_the_home_assistant_layer_uses_the_client_through_its_package() -> None:
    """Outside api/, every import of the client names the package, never one of its modules."""
    files = [p for p in sorted(INTEGRATION_DIR.rglob("*.py")) if API_DIR not in p.parents]
    assert len(files) >= 20
    offenders = []
    for path in files:
        package_depth = len(path.relative_to(INTEGRATION_DIR).parts)  # 1 for camera.py
        for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            name = module.lstrip(".")
            # "from .api.x" in camera.py, "from ..api.x" in live/relay.py, or spelt out.
            if name.startswith("api.") and len(module) - len(name) == package_depth:
                name = f"custom_components.ipro_nvr.{name}"
            if name.startswith("custom_components.ipro_nvr.api."):
                offenders.append(f"{path.relative_to(INTEGRATION_DIR)}: {module}")
    assert offenders == []
