"""The HACS action's checks and the brand image rules, run offline (sources in ``ha_rules``).

Not reproducible offline, so not here: the GitHub repository's description and topics,
its issues being enabled and it not being archived (settings of the GitHub repository).
"""

from __future__ import annotations

from pathlib import Path
import tomllib
from typing import Any

from awesomeversion import AwesomeVersion
from homeassistant import const as ha_const
from PIL import Image
import pytest

from tests.validation import ha_rules
from tests.validation.code_scan import PACKAGE_DIR
from tests.validation.conftest import REPO_ROOT, load_json

BRAND_DIR = PACKAGE_DIR / "brand"


def test_hacs_json_follows_the_hacs_schema() -> None:
    """Only the keys HACS knows, with their types; a name is required."""
    hacs = load_json(REPO_ROOT / "hacs.json")
    ha_rules.HACS_JSON_SCHEMA(hacs)
    assert not hacs.get("content_in_root", False), "the integration is in custom_components/"


def test_hacs_minimum_version_is_one_the_suite_runs_on() -> None:
    """The minimum Home Assistant in ``hacs.json`` is not newer than the one under test."""
    minimum = load_json(REPO_ROOT / "hacs.json").get("homeassistant")
    assert minimum is not None
    assert AwesomeVersion(minimum) <= AwesomeVersion(ha_const.__version__)


def test_hacs_json_schema_rejects_unknown_keys() -> None:
    """An unknown key (``domains`` of old HACS versions) fails, as in the HACS action."""
    with pytest.raises(ha_rules.vol.Invalid):
        ha_rules.HACS_JSON_SCHEMA({"name": "x", "domains": ["camera"]})


def test_one_integration_in_custom_components() -> None:
    """HACS installs the single folder under ``custom_components/``."""
    folders = [p for p in (REPO_ROOT / "custom_components").iterdir() if p.is_dir()]
    assert [p.name for p in folders if p.name != "__pycache__"] == [PACKAGE_DIR.name]


def test_manifest_has_the_keys_hacs_needs(manifest: dict[str, Any]) -> None:
    """domain, name, version, documentation, issue_tracker, codeowners."""
    missing = [key for key in ha_rules.HACS_MANIFEST_KEYS if not manifest.get(key)]
    assert missing == []
    assert manifest["issue_tracker"].startswith("https://")
    AwesomeVersion(manifest["version"])


def test_license_is_mit_as_pyproject_says() -> None:
    """A LICENSE file at the root (GitHub reports its key to HACS), the one pyproject names."""
    text = (REPO_ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"


def test_readme_is_there_for_hacs_to_render() -> None:
    """``render_readme``: HACS shows README.md as the integration's information page."""
    assert load_json(REPO_ROOT / "hacs.json").get("render_readme") is True
    readme = (REPO_ROOT / "README.md").read_text()
    assert readme.startswith("# ")
    assert "## Install" in readme


# -- brand images -------------------------------------------------------------


def _brand_images() -> list[Path]:
    return sorted(BRAND_DIR.glob("*"))


def test_brand_icon_is_shipped() -> None:
    """``brand/icon.png`` (and its hDPI version), nothing the brands rules do not know."""
    names = [path.name for path in _brand_images()]
    assert "icon.png" in names
    assert "icon@2x.png" in names
    assert set(names) <= set(ha_rules.BRAND_FILES)
    for name in names:
        if "@2x" in name:
            assert name.replace("@2x", "") in names, f"{name} without its normal version"


@pytest.mark.parametrize("path", _brand_images(), ids=lambda p: p.name)
def test_brand_image_follows_the_brands_rules(path: Path) -> None:
    """PNG, exact icon sizes, transparent background, trimmed (the mark reaches the edges)."""
    with Image.open(path) as image:
        assert ha_rules.brand_image_problems(path.name, image.size, image.format or "?") == []
        assert image.mode == "RGBA", "a transparent background needs an alpha channel"
        alpha = image.getchannel("A")
        width, height = image.size
        corners = [(0, 0), (width - 1, 0), (0, height - 1), (width - 1, height - 1)]
        assert all(alpha.getpixel(corner) == 0 for corner in corners), "transparent corners"
        assert alpha.getbbox() == (0, 0, width, height), "trimmed: no empty border"


def test_hidpi_icon_is_not_the_normal_one_copied() -> None:
    """The brands repository rejects an @2x image identical to the normal one."""
    assert (BRAND_DIR / "icon.png").read_bytes() != (BRAND_DIR / "icon@2x.png").read_bytes()
