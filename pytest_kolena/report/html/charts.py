"""The evaluator's plots drawn by matplotlib: per test case and configuration, one image per plot title with one
series per model (a confusion matrix: one panel per model), as small palette PNGs."""

from __future__ import annotations

import base64
import io
import json
import math
from typing import Any

from .dependencies import _Libraries
from .run import _Case, _Run
from .text import Row, _e, _finite, _num

MODEL_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _label(text: Any) -> str:
    """A user string for matplotlib, taken literally (a `$` would start mathtext)."""
    return str(text if text is not None else "").replace("$", r"\$")


def _floats(values: Any) -> list[float]:
    return [float(v) if _finite(v) else math.nan for v in values]


class _Charts:
    """The evaluator's plots as images: per test case and configuration, one chart per plot title with one series
    per model (a confusion matrix: one panel per model); a chart equal under several configurations is drawn once."""

    def __init__(self, libraries: _Libraries, run: _Run) -> None:
        self.libraries = libraries
        self.run = run

    def section(self, case: _Case) -> str:
        groups: dict[tuple[str, str, str], list[tuple[str, Row]]] = {}
        for row in self.run.metrics.get(case, []) if case.test_case else []:
            for plot in row.get("plots") or []:
                key = (row.get("configuration") or "", str(plot.get("data_type", "")), str(plot.get("title", "")))
                groups.setdefault(key, []).append((row["model"], plot))
        configurations = {key[0] for key in groups}
        drawn: dict[str, tuple[str, list[str]]] = {}  # the plots' content -> (figure, configurations)
        for (configuration, _, _), plots in groups.items():
            content = json.dumps(plots, sort_keys=True, default=str)
            if content not in drawn:
                drawn[content] = (self.figure(plots, case), [])
            drawn[content][1].append(configuration)
        figures = []
        for figure, used in drawn.values():
            caption = f"<figcaption>{_e(', '.join(used))}</figcaption>" if len(configurations) > 1 else ""
            figures.append(figure.replace("</figure>", caption + "</figure>"))
        return f'<h3>Plots</h3><div class="charts">{"".join(figures)}</div>' if figures else ""

    def figure(self, plots: list[tuple[str, Row]], case: _Case) -> str:
        """A <figure> of one plot type, every model's plot in it; a plot that cannot be drawn says why."""
        kind = str(plots[0][1].get("data_type", ""))
        title = str(plots[0][1].get("title", ""))
        draw = {
            "PLOT/CURVE": self.curves,
            "PLOT/HISTOGRAM": self.histograms,
            "PLOT/BAR": self.bars,
            "PLOT/CONFUSION_MATRIX": self.confusion,
        }.get(kind)
        if draw is None:
            return f'<figure class="not-drawn">plot {_e(title)}: type {_e(kind)} not drawn</figure>'
        panels = len(plots) if kind == "PLOT/CONFUSION_MATRIX" else 1
        figure = self.libraries.figure(figsize=(3.0 * panels + 0.9 if panels > 1 else 4.2, 2.8), dpi=100)
        try:
            draw(figure, plots, case)
            image = _png(self.libraries, figure)
        except Exception as error:  # a plot whose values do not draw (a report is written all the same)
            return f'<figure class="not-drawn">plot {_e(title)} not drawn: {_e(type(error).__name__)}: {_e(error)}</figure>'
        return f'<figure><img class="chart" alt="{_e(title)}" src="{image}"></figure>'

    def colour(self, case: _Case, model: str) -> str:
        models = self.run.models(case.group)
        return MODEL_COLOURS[(models.index(model) if model in models else 0) % len(MODEL_COLOURS)]

    def axes(self, figure: Any, plot: Row) -> Any:
        """One panel with fixed margins (tight_layout would draw every chart twice), titled and scaled as the plot
        says."""
        figure.subplots_adjust(left=0.15, right=0.97, top=0.89, bottom=0.17)
        axes = figure.add_subplot()
        axes.set_title(_label(plot.get("title")), fontsize=9)
        axes.set_xlabel(_label(plot.get("x_label")), fontsize=8)
        axes.set_ylabel(_label(plot.get("y_label")), fontsize=8)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
        if (plot.get("x_config") or {}).get("type") == "log":
            axes.set_xscale("log")
        if (plot.get("y_config") or plot.get("config") or {}).get("type") == "log":
            axes.set_yscale("log")
        return axes

    def curves(self, figure: Any, plots: list[tuple[str, Row]], case: _Case) -> None:
        axes = self.axes(figure, plots[0][1])
        for model, plot in plots:
            for i, curve in enumerate(plot.get("curves") or []):
                label = curve.get("label")
                name = model if not label or label == case.test_case else f"{model}: {label}"
                style = ("-", "--", ":", "-.")[i % 4]
                axes.plot(
                    _floats(curve["x"]),
                    _floats(curve["y"]),
                    style,
                    color=self.colour(case, model),
                    lw=1.3,
                    label=_label(name),
                )
        axes.legend(fontsize=7, frameon=False)

    def histograms(self, figure: Any, plots: list[tuple[str, Row]], case: _Case) -> None:
        axes = self.axes(figure, plots[0][1])
        for model, plot in plots:
            frequency = plot["frequency"]
            nested = bool(frequency) and isinstance(frequency[0], (list, tuple))
            series = zip(plot["labels"], frequency) if nested else [(None, frequency)]
            for i, (label, values) in enumerate(series):
                name = model if label is None else f"{model}: {label}"
                style = ("-", "--", ":", "-.")[i % 4]
                axes.stairs(
                    _floats(values),
                    _floats(plot["buckets"]),
                    color=self.colour(case, model),
                    ls=style,
                    lw=1.3,
                    label=_label(name),
                )
        axes.legend(fontsize=7, frameon=False)

    def bars(self, figure: Any, plots: list[tuple[str, Row]], case: _Case) -> None:
        axes = self.axes(figure, plots[0][1])
        labels = list(dict.fromkeys(str(label) for _, plot in plots for label in plot["labels"]))
        width = 0.8 / len(plots)
        for i, (model, plot) in enumerate(plots):
            values = dict(zip(map(str, plot["labels"]), _floats(plot["values"])))
            positions = [j - 0.4 + width * (i + 0.5) for j in range(len(labels))]
            heights = [values.get(label, math.nan) for label in labels]
            axes.bar(positions, heights, width=width, color=self.colour(case, model), label=_label(model))
        many = len(labels) > 6
        axes.set_xticks(
            range(len(labels)),
            [_label(x) for x in labels],
            rotation=30 if many else 0,
            ha="right" if many else "center",
        )
        axes.legend(fontsize=7, frameon=False)

    def confusion(self, figure: Any, plots: list[tuple[str, Row]], case: _Case) -> None:
        figure.subplots_adjust(left=0.1, right=0.98, top=0.8, bottom=0.2, wspace=0.45)
        for i, (model, plot) in enumerate(plots):
            axes = figure.add_subplot(1, len(plots), i + 1)
            matrix = [_floats(row) for row in plot["matrix"]]
            axes.imshow(matrix, cmap="Blues")
            labels = [_label(label) for label in plot["labels"]]
            axes.set_xticks(range(len(labels)), labels, fontsize=7)
            axes.set_yticks(range(len(labels)), labels, fontsize=7)
            top = max((v for row in matrix for v in row if not math.isnan(v)), default=0)
            for r, row in enumerate(matrix if len(labels) <= 12 else []):
                for c, value in enumerate(row):
                    colour = "white" if top and value > top / 2 else "black"
                    axes.text(c, r, _num(value), ha="center", va="center", fontsize=7, color=colour)
            axes.set_title(_label(f"{model}\n{plot.get('title', '')}"), fontsize=8)
            axes.set_xlabel(_label(plot.get("x_label", "Predicted")), fontsize=8)
            axes.set_ylabel(_label(plot.get("y_label", "Actual")), fontsize=8)


def _png(libraries: _Libraries, figure: Any) -> str:
    """A figure as a palette PNG data URI (a quarter of the size of matplotlib's RGBA PNG, for flat charts)."""
    canvas = libraries.canvas(figure)
    canvas.draw()
    image = libraries.image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=64, method=libraries.image.Quantize.FASTOCTREE).save(out, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
