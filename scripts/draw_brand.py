"""Draw the integration's brand icon: a recorder's camera lens with a recording dot.

Writes ``custom_components/ipro_nvr/brand/icon.png`` (256x256) and ``icon@2x.png``
(512x512): PNG, transparent background, the mark touching the edges (the brands
repository's rules). Drawn at 4x and scaled down, so the edges are smooth. It is our
own mark, not i-PRO's logo. Run ``scripts/draw-brand`` after changing it.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

BRAND_DIR = Path(__file__).resolve().parents[1] / "custom_components" / "ipro_nvr" / "brand"
SUPERSAMPLE = 4

BODY = (28, 39, 64)  # dark slate: the camera body
RING = (58, 74, 110)  # the lens barrel
LENS_OUTER = (10, 70, 130)
LENS_INNER = (64, 168, 240)
PUPIL = (8, 22, 44)
RECORD = (229, 57, 53)  # the red "recording" dot


def _disc(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, fill: object) -> None:
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)


def _lens(size: int, cx: float, cy: float, radius: float) -> Image.Image:
    """A radial gradient disc, lighter towards the upper left like a lit glass."""
    lens = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(lens)
    steps = 48
    light_x, light_y = cx - radius * 0.25, cy - radius * 0.25
    for i in range(steps, 0, -1):
        t = i / steps  # 1 at the rim, towards 0 at the light
        r = radius * t
        x = light_x + (cx - light_x) * t
        y = light_y + (cy - light_y) * t
        color = tuple(
            round(inner + (outer - inner) * t)
            for inner, outer in zip(LENS_INNER, LENS_OUTER, strict=True)
        )
        _disc(draw, x, y, r, (*color, 255))
    return lens.filter(ImageFilter.GaussianBlur(size / 300))


def draw_icon(side: int) -> Image.Image:
    """The icon, ``side`` pixels square."""
    size = side * SUPERSAMPLE
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    c = size / 2
    _disc(draw, c, c, size / 2, BODY)
    _disc(draw, c, c, size * 0.40, RING)
    lens_radius = size * 0.31
    _disc(draw, c, c, size * 0.335, PUPIL)  # the rim holding the glass
    image.alpha_composite(_lens(size, c, c, lens_radius))
    draw = ImageDraw.Draw(image)
    _disc(draw, c, c, size * 0.12, PUPIL)
    # Reflections: a soft arc on the upper left, a small spark beside the pupil.
    glare = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    glare_draw = ImageDraw.Draw(glare)
    r = lens_radius * 0.78
    glare_draw.arc(
        (c - r, c - r, c + r, c + r), 200, 250, fill=(255, 255, 255, 150), width=round(size * 0.03)
    )
    _disc(glare_draw, c - size * 0.05, c - size * 0.05, size * 0.025, (255, 255, 255, 200))
    image.alpha_composite(glare.filter(ImageFilter.GaussianBlur(size / 400)))
    # The recording dot sits on the body at the upper right, ringed in the body's colour.
    angle = math.radians(-45)
    dot_x = c + math.cos(angle) * size * 0.36
    dot_y = c + math.sin(angle) * size * 0.36
    draw = ImageDraw.Draw(image)
    _disc(draw, dot_x, dot_y, size * 0.135, BODY)
    _disc(draw, dot_x, dot_y, size * 0.095, RECORD)
    return image.resize((side, side), Image.Resampling.LANCZOS)


def main() -> None:
    """Write icon.png and icon@2x.png."""
    BRAND_DIR.mkdir(parents=True, exist_ok=True)
    for name, side in (("icon.png", 256), ("icon@2x.png", 512)):
        path = BRAND_DIR / name
        draw_icon(side).save(path, optimize=True)
        print(f"wrote {path.relative_to(BRAND_DIR.parents[2])} ({side}x{side})")


if __name__ == "__main__":
    main()
