"""Files of the integration and the repository, loaded once for the validation tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.util.yaml import load_yaml_dict
import pytest

from tests.validation.code_scan import PACKAGE_DIR, PackageScan

REPO_ROOT = PACKAGE_DIR.parents[1]


def load_json(path: Path) -> Any:
    """A JSON file's content."""
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def scan() -> PackageScan:
    """The parsed source of the integration."""
    return PackageScan()


@pytest.fixture(scope="session")
def manifest() -> dict[str, Any]:
    """``manifest.json``."""
    data: dict[str, Any] = load_json(PACKAGE_DIR / "manifest.json")
    return data


@pytest.fixture(scope="session")
def strings() -> dict[str, Any]:
    """``strings.json`` (``translations/en.json`` is checked to be the same)."""
    data: dict[str, Any] = load_json(PACKAGE_DIR / "strings.json")
    return data


@pytest.fixture(scope="session")
def icons() -> dict[str, Any]:
    """``icons.json``."""
    data: dict[str, Any] = load_json(PACKAGE_DIR / "icons.json")
    return data


@pytest.fixture(scope="session")
def services_yaml() -> dict[str, Any]:
    """``services.yaml``."""
    return dict(load_yaml_dict(str(PACKAGE_DIR / "services.yaml")))
