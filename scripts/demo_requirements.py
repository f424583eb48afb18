"""Print the Python packages the demo's Home Assistant needs, from the manifests.

``scripts/develop`` starts Home Assistant with ``config/configuration.yaml``. Home
Assistant then loads more than that file names: its default integrations, what
onboarding sets up (weather, text-to-speech, radio, shopping list), the entity
platforms those forward to, and the "base components" it imports to read service
descriptions (``get_services``, which the frontend waits for before it shows
anything; they import conversation and assist_pipeline). Each of them lists its
packages in its manifest. This script starts from those integrations, walks
``dependencies`` and ``after_dependencies`` recursively and prints every
``requirements`` entry, so nothing is a hand-kept list that falls behind the
installed Home Assistant.

    python scripts/demo_requirements.py [--config config] [--all]

prints the missing requirements (``--all``: every one), one per line, sorted.
``--constraints`` prints Home Assistant's pin file instead, which pip must be given
too so that installing them never moves a package Home Assistant pins.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterable
import json
from pathlib import Path
import sys
from typing import Any

import homeassistant
from homeassistant.const import Platform
from homeassistant.util.package import is_installed
from homeassistant.util.yaml import loader as yaml_loader

HA_ROOT = Path(homeassistant.__file__).parent
CORE_COMPONENTS = HA_ROOT / "components"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = REPO / "config"
REPO_CUSTOM_COMPONENTS = REPO / "custom_components"


def configured_domains(config_dir: Path) -> set[str]:
    """Return the integrations configuration.yaml names (keys and ``platform:`` entries)."""
    config = yaml_loader.load_yaml_dict(config_dir / "configuration.yaml")
    domains: set[str] = set()
    for key, value in config.items():
        # "sensor 2:" and "sensor:" both mean sensor (Home Assistant's domain_key).
        domains.add(str(key).split(" ", 1)[0])
        entries = value if isinstance(value, list) else [value]
        domains.update(
            entry["platform"]
            for entry in entries
            if isinstance(entry, dict) and "platform" in entry
        )
    return domains


def _list_assigned_in(path: Path, name: str) -> set[str]:
    """Return the strings of a list, tuple or set literal assigned to ``name`` in a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in targets) and isinstance(
            value, ast.List | ast.Tuple | ast.Set
        ):
            found.update(
                elt.value
                for elt in value.elts
                if isinstance(elt, ast.Constant) and isinstance(elt.value, str)
            )
    return found


def _components_imported_by(path: Path, function: str) -> set[str]:
    """Return the integrations ``from homeassistant.components import ...`` names in a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module == "homeassistant.components":
                    found.update(alias.name for alias in inner.names)
    return found


def bootstrap_domains() -> set[str]:
    """Return what Home Assistant always sets up (read, not imported: that takes seconds)."""
    bootstrap = HA_ROOT / "bootstrap.py"
    domains = set()
    for name in ("CORE_INTEGRATIONS", "DEFAULT_INTEGRATIONS"):
        if not (found := _list_assigned_in(bootstrap, name)):
            _warn(f"found no {name} in homeassistant/bootstrap.py")
        domains |= found
    return domains


def onboarding_domains() -> set[str]:
    """Return what finishing onboarding sets up (a list inside the onboarding views)."""
    domains = _list_assigned_in(CORE_COMPONENTS / "onboarding" / "views.py", "onboard_integrations")
    if not domains:
        _warn("found no 'onboard_integrations' in the onboarding views")
    return domains


def service_description_domains() -> set[str]:
    """Return the base components Home Assistant imports to validate service descriptions."""
    domains = _components_imported_by(HA_ROOT / "helpers" / "service.py", "_base_components")
    if not domains:
        _warn("found no '_base_components' imports in homeassistant/helpers/service.py")
    return domains


def root_domains(config_dir: Path) -> set[str]:
    """Return every integration the demo's Home Assistant sets up or imports by itself."""
    return (
        configured_domains(config_dir)
        | bootstrap_domains()
        | onboarding_domains()
        | service_description_domains()
        | custom_domains(config_dir)
    )


def custom_folders(config_dir: Path) -> list[Path]:
    """Return where custom integrations are: the configuration's folder, else this repository's.

    ``scripts/develop`` links the repository's ``custom_components`` into the
    configuration; before the first run only the repository's exists.
    """
    linked = config_dir / "custom_components"
    return [linked] if linked.is_dir() else [REPO_CUSTOM_COMPONENTS]


def custom_domains(config_dir: Path) -> set[str]:
    """Return the custom integrations Home Assistant will find."""
    return {
        path.parent.name
        for folder in custom_folders(config_dir)
        for path in folder.glob("*/manifest.json")
    }


def integration_folder(domain: str, config_dir: Path) -> Path | None:
    """Return an integration's folder; a custom one wins, as in Home Assistant."""
    for base in (*custom_folders(config_dir), CORE_COMPONENTS):
        if (base / domain / "manifest.json").is_file():
            return base / domain
    return None


def walk(roots: Iterable[str], config_dir: Path) -> dict[str, dict[str, Any]]:
    """Return the manifests of the roots and of everything they depend on.

    ``after_dependencies`` count too: an integration imports them when they are
    loaded (hassfest requires every cross-integration import to be declared), and
    the demo loads many. An integration's entity platforms (``weather.py`` of met)
    make Home Assistant load that entity component, so they count as well.
    """
    manifests: dict[str, dict[str, Any]] = {}
    todo = list(roots)
    while todo:
        domain = todo.pop()
        if domain in manifests:
            continue
        folder = integration_folder(domain, config_dir)
        if folder is None:
            _warn(f"no manifest for {domain!r}; skipped")
            manifests[domain] = {}
            continue
        manifest = json.loads((folder / "manifest.json").read_text())
        manifests[domain] = manifest
        todo.extend(manifest.get("dependencies", []))
        todo.extend(manifest.get("after_dependencies", []))
        todo.extend(
            platform.value
            for platform in Platform
            if platform.value != domain and (folder / f"{platform.value}.py").is_file()
        )
    return manifests


def requirements(config_dir: Path) -> list[str]:
    """Return every requirement of the demo's integrations, sorted and unique."""
    manifests = walk(root_domains(config_dir), config_dir)
    return sorted(
        {req for manifest in manifests.values() for req in manifest.get("requirements", [])},
        key=str.lower,
    )


def _warn(message: str) -> None:
    print(f"demo_requirements: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Print the requirements (missing ones unless --all), or the constraints file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_DIR, help="config folder")
    parser.add_argument("--all", action="store_true", help="print installed ones too")
    parser.add_argument(
        "--constraints", action="store_true", help="print Home Assistant's constraints file"
    )
    args = parser.parse_args(argv)
    if args.constraints:
        print(HA_ROOT / "package_constraints.txt")
        return 0
    for req in requirements(args.config):
        if args.all or not is_installed(req):
            print(req)
    return 0


if __name__ == "__main__":
    sys.exit(main())
