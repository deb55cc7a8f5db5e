"""Text that fits the sidebar (main thread, draw code only): wrap a message into lines
that Blender will not cut in the middle, and shorten a one-line label at a word boundary.

Widths are measured with Blender's own font metrics (`blf`) at the current UI scale when
a region is drawing; without one (scripts, tests) a conservative average character width
is used. `LABEL_MARGIN` is what a box, its padding and a leading icon take from a line.
"""
from __future__ import annotations

import bpy

DEFAULT_WIDTH = 291      # px: the sidebar's default width at UI scale 1.0 (with its tab strip)
# px at scale 1, measured on screenshots of Blender 4.3: the category tab strip (30), panel
# margins (16), box padding (12) and a leading icon (24), plus some air.
LABEL_MARGIN = 100
CHAR_PX = 6.6            # px at scale 1: average for Blender's UI font (when blf cannot measure)
FONT_PT = 11             # Blender's default widget text size (points at scale 1.0)


def _scale() -> float:
    try:
        return float(bpy.context.preferences.system.ui_scale) or 1.0
    except AttributeError:
        return 1.0


def available(context, margin: int = LABEL_MARGIN) -> float:
    """Pixels a label gets in the drawing region (the default sidebar when unknown)."""
    region = getattr(context, "region", None)
    width = getattr(region, "width", 0) or DEFAULT_WIDTH * _scale()
    return max(80.0, width - margin * _scale())


def text_width(text: str) -> float:
    """Pixels `text` takes in Blender's UI font at the current scale."""
    try:
        import blf
        blf.size(0, FONT_PT * _scale())
        width = blf.dimensions(0, text)[0]  # type: ignore[func-returns-value,index]  # stub is wrong
        if width > 0:
            return float(width)
    except Exception:  # noqa: BLE001 - no font context (background mode): estimate
        pass
    return len(text) * CHAR_PX * _scale()


def wrap(text: str, width_px: float) -> list[str]:
    """Lines of whole words, each at most `width_px` wide (a single over-long word is cut)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if line and text_width(candidate) > width_px:
            lines.append(line)
            line = word
        else:
            line = candidate
        while text_width(line) > width_px and len(line) > 1:   # a URL or an id longer than a line
            cut = len(line) - 1
            while cut > 1 and text_width(line[:cut]) > width_px:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    return lines + ([line] if line else [])


def shorten(text: str, width_px: float) -> str:
    """One line: the text, or its first words and "…" when it does not fit."""
    lines = wrap(text, width_px)
    if len(lines) <= 1:
        return lines[0] if lines else ""
    first = lines[0]
    while first and text_width(first + " …") > width_px:
        first = first.rsplit(" ", 1)[0] if " " in first else first[:-1]
    return first + " …"
