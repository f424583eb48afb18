"""The media package is HA-free: no module under api/media imports Home Assistant."""

from __future__ import annotations

import ast
from pathlib import Path

import custom_components.ipro_nvr.api.media as media_package

MEDIA_DIR = Path(media_package.__file__).parent


def test_no_media_module_imports_homeassistant_or_the_ha_layer() -> None:
    files = sorted(MEDIA_DIR.glob("*.py"))
    assert {p.name for p in files} >= {
        "multipart.py",
        "tlv.py",
        "rtp.py",
        "h264.py",
        "h265.py",
        "access_unit.py",
        "jpeg.py",
        "audio.py",
        "live.py",
    }
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level > 1:
                    offenders.append(f"{path.name}: climbs out of media/")
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                inside_api = name.startswith("custom_components.ipro_nvr.api")
                if top in {"homeassistant", "aiohttp", "av"} or (
                    top == "custom_components" and not inside_api
                ):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
