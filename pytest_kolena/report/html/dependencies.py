"""The optional dependencies of the HTML report, matplotlib and Pillow: imported once per report, when one is
written, or an error naming the extra that installs them."""

from __future__ import annotations

import dataclasses
from typing import Any


class HtmlDependencyError(ImportError):
    """matplotlib or Pillow is missing: the HTML report needs the extra `html`."""


@dataclasses.dataclass(frozen=True)
class _Libraries:
    """The optional dependencies, imported once per report."""

    figure: Any  # matplotlib.figure.Figure
    canvas: Any  # matplotlib.backends.backend_agg.FigureCanvasAgg
    style: Any  # matplotlib.style
    image: Any  # PIL.Image
    draw: Any  # PIL.ImageDraw
    font: Any  # PIL.ImageFont


def _require() -> _Libraries:
    """matplotlib and Pillow, or an error naming the extra that installs them."""
    missing = []
    try:
        import matplotlib.style
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        missing.append("matplotlib")
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        missing.append("Pillow")
    if missing:
        raise HtmlDependencyError(
            f'the HTML report needs {" and ".join(missing)}, not installed: pip install "pytest-kolena[html]"'
        )
    return _Libraries(Figure, FigureCanvasAgg, matplotlib.style, Image, ImageDraw, ImageFont)
