"""Between the units people use (%, kelvin, #RRGGBB) and the Hue API's (bri, mireds, xy)."""

from __future__ import annotations

import re

__all__ = (
    "BRI_MAX",
    "BRI_MIN",
    "KELVIN_MAX",
    "KELVIN_MIN",
    "MIRED_MAX",
    "MIRED_MIN",
    "bri_to_percent",
    "hex_to_xy",
    "kelvin_to_mired",
    "mired_to_kelvin",
    "percent_to_bri",
    "xy_to_hex",
)

BRI_MIN, BRI_MAX = 1, 254
KELVIN_MIN, KELVIN_MAX = 2000, 6500
MIRED_MIN, MIRED_MAX = 153, 500

_HEX = re.compile(r"#?([0-9a-fA-F]{6})")

# IEC 61966-2-1 sRGB (D65) linear RGB -> CIE XYZ, and its inverse.
_RGB_TO_XYZ = (
    (0.4124, 0.3576, 0.1805),
    (0.2126, 0.7152, 0.0722),
    (0.0193, 0.1192, 0.9505),
)
_XYZ_TO_RGB = (
    (3.2406, -1.5372, -0.4986),
    (-0.9689, 1.8758, 0.0415),
    (0.0557, -0.2040, 1.0570),
)


def percent_to_bri(percent: int) -> int:
    """0-100 % onto the bridge's 1-254 (0 % is the dimmest glow, not off)."""
    return round(BRI_MIN + percent * (BRI_MAX - BRI_MIN) / 100)


def bri_to_percent(bri: int) -> int:
    return max(0, min(100, round((bri - BRI_MIN) * 100 / (BRI_MAX - BRI_MIN))))


def kelvin_to_mired(kelvin: int) -> int:
    return max(MIRED_MIN, min(MIRED_MAX, round(1_000_000 / kelvin)))


def mired_to_kelvin(mired: int) -> int:
    return round(1_000_000 / max(mired, 1))


def _linear(channel: float) -> float:
    """Undo sRGB gamma companding."""
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _companded(channel: float) -> float:
    return 12.92 * channel if channel <= 0.0031308 else 1.055 * channel ** (1 / 2.4) - 0.055


def hex_to_xy(color: str) -> tuple[float, float]:
    """``#RRGGBB`` to CIE 1931 xy; raises ValueError for a malformed or black colour."""
    match = _HEX.fullmatch(color.strip())
    if match is None:
        raise ValueError(f"{color!r} is not a colour like '#FF8800'")
    digits = match.group(1)
    rgb = [_linear(int(digits[i : i + 2], 16) / 255) for i in (0, 2, 4)]
    x_, y_, z_ = (sum(m * c for m, c in zip(row, rgb, strict=True)) for row in _RGB_TO_XYZ)
    total = x_ + y_ + z_
    if total == 0:
        raise ValueError("black has no colour; turn the light off instead")
    return round(x_ / total, 4), round(y_ / total, 4)


def xy_to_hex(x: float, y: float) -> str:
    """CIE xy at full brightness to the nearest ``#RRGGBB`` (out-of-gamut colours are clipped)."""
    if y <= 0:
        return "#000000"
    xyz = (x / y, 1.0, (1 - x - y) / y)
    rgb = [max(0.0, sum(m * c for m, c in zip(row, xyz, strict=True))) for row in _XYZ_TO_RGB]
    peak = max(rgb) or 1.0
    return "#" + "".join(f"{round(_companded(c / peak) * 255):02X}" for c in rgb)
