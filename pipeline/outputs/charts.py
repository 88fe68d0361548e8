"""Figures to PNG with kaleido, drawn by the machine's own Chromium (Debian's /usr/bin/chromium).

kaleido (through choreographer) takes the browser from BROWSER_PATH; it is set here to the
installed Chromium when not given, so no browser is ever downloaded. One browser serves
all the figures of a report. Chinese needs a CJK font on the machine (fonts-noto-cjk);
the figures name Noto Sans CJK SC first in their font stack.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import plotly.graph_objects as go

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
DEFAULT_WIDTH = 1000   # px at scale 1: the width of the text column of an A4 page at ~150 dpi
DEFAULT_SCALE = 2      # printed sharp


class ChartsUnavailable(Exception):
    """No browser to draw the charts with, or the browser failed."""


def find_browser() -> str:
    """BROWSER_PATH when set, else the first Chromium on PATH."""
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        if not Path(configured).exists():
            raise ChartsUnavailable(f"BROWSER_PATH 指向的浏览器不存在：{configured}")
        return configured
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise ChartsUnavailable("未找到 Chromium 浏览器，无法生成图表图片（Debian：apt-get install chromium）")


def _ensure_browser_path() -> str:
    browser = find_browser()
    os.environ["BROWSER_PATH"] = browser
    return browser


async def _render_all(figures: dict[str, go.Figure], width: int, scale: float) -> dict[str, bytes]:
    import kaleido

    images: dict[str, bytes] = {}
    async with kaleido.Kaleido(n=1, timeout=120, mathjax=False) as renderer:
        for key, figure in figures.items():
            height = int(figure.layout.height or 450)
            images[key] = await renderer.calc_fig(
                figure, opts={"format": "png", "width": width, "height": height, "scale": scale})
    return images


def render_png(figures: dict[str, go.Figure], *, width: int = DEFAULT_WIDTH,
               scale: float = DEFAULT_SCALE) -> dict[str, bytes]:
    """Each figure as PNG bytes, at its own layout height and the given width (px)."""
    if not figures:
        return {}
    _ensure_browser_path()
    try:
        return asyncio.run(_render_all(figures, width, scale))
    except ChartsUnavailable:
        raise
    except Exception as error:  # kaleido and choreographer raise many kinds; one message for the user
        raise ChartsUnavailable(f"图表图片生成失败：{type(error).__name__}: {error}") from error


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from the PNG header."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
