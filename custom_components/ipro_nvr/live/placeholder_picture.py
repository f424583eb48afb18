"""The picture a camera tile shows before the recorder has sent one (never a broken image).

Each camera's first JPEG costs a ``push.cgi`` START, and the recorder takes one
command every 3 s (spec 1.3): on a dashboard of many cameras the last ones wait
longer than Home Assistant's 10 s for a snapshot, and the frontend would show a
broken-image icon. Until a real picture exists, a camera answers with this
neutral frame instead: a dark 16:9 picture with a camera outline, drawn once
per process (in the executor) and then served from memory.
"""

from __future__ import annotations

import io

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

_KEY: HassKey[bytes] = HassKey("ipro_nvr_placeholder_picture")
WIDTH, HEIGHT = 640, 360
_BACKGROUND = (38, 41, 46)
_OUTLINE = (96, 102, 112)


def draw_placeholder() -> bytes:
    """A dark 16:9 JPEG with a simple camera outline in the middle (blocking: PIL)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    cx, cy = WIDTH // 2, HEIGHT // 2
    draw.rounded_rectangle(
        (cx - 60, cy - 34, cx + 30, cy + 34), radius=10, outline=_OUTLINE, width=6
    )
    draw.polygon(((cx + 36, cy), (cx + 70, cy - 26), (cx + 70, cy + 26)), outline=_OUTLINE, width=6)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


async def async_placeholder_picture(hass: HomeAssistant) -> bytes:
    """The placeholder JPEG, drawn on first use."""
    if (picture := hass.data.get(_KEY)) is None:
        picture = await hass.async_add_executor_job(draw_placeholder)
        hass.data[_KEY] = picture
    return picture
