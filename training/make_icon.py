"""Draw the app icon (resources/icons/genstudio.png and .ico): a latent grid morphing into a digit-like
stroke on a dark rounded square. Run once; the PNG/ICO are committed."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SIZE = 512


def draw() -> Image.Image:
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    d = ImageDraw.Draw(image)
    d.rounded_rectangle((16, 16, SIZE - 16, SIZE - 16), radius=96, fill=(24, 28, 48, 255))
    # A 5x5 grid of dots whose size grows along a diagonal: a path through a latent space.
    for i in range(5):
        for j in range(5):
            t = (i + j) / 8
            r = 10 + 22 * t
            cx, cy = 96 + i * 80, 96 + j * 80
            colour = (int(60 + 180 * t), int(120 + 60 * math.sin(math.pi * t)), int(230 - 120 * t), 255)
            d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    glow = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    g = ImageDraw.Draw(glow)
    g.arc((150, 120, 370, 340), start=200, end=520, fill=(255, 255, 255, 255), width=30)
    g.line((330, 300, 190, 420), fill=(255, 255, 255, 255), width=30)
    glow = glow.filter(ImageFilter.GaussianBlur(2))
    image.alpha_composite(glow)
    return image


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "resources" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    icon = draw()
    icon.resize((256, 256), Image.LANCZOS).save(out / "genstudio.png")
    icon.save(out / "genstudio.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])


if __name__ == "__main__":
    main()
