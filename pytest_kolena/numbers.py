"""Numbers as every text of the plugin writes them: one place, so that the terminal, Markdown, HTML and failure
texts show a value alike. Standard library only."""

from __future__ import annotations

import math


def general(value: float) -> str:
    """A metric value in a table: four significant digits (`0.1327`, `1.2e+04`), NaN as `NaN`."""
    return "NaN" if math.isnan(value) else f"{value:.4g}"


def signed(value: float) -> str:
    """A change, always with its sign: `+0.01817`, `-0.003`."""
    return f"{value:+.4g}"


def p_value(value: float) -> str:
    """A p-value: two significant digits (`0.0066`, `1.2e-05`)."""
    return f"{value:.2g}"


def precise(value: float) -> str:
    """A value a reader compares with a threshold or a baseline: six significant digits (`0.170664`)."""
    return f"{value:.6g}"
