"""The charts, drawn with QtCharts: probe pass rates per category, and the training loss.

A class reads bars faster than a table of percentages on a projector. The
charts follow the window's font and palette, so presentation mode enlarges
them with everything else.
"""

from __future__ import annotations

import html

from PySide6.QtCharts import (
    QAreaSeries,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QEvent, QMargins, QPointF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop.i18n import tr
from engine.report_html import PALETTE

HIGHLIGHT = QColor(255, 200, 0, 60)  # a pale amber band: "look here", without hiding the bars


class _ChartView(QChartView):
    """A chart on the window's background, with an empty state in words instead of blank axes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._chart = QChart()
        self.setChart(self._chart)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._chart.setBackgroundVisible(False)
        self._chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self._chart.setMargins(QMargins(4, 4, 4, 4))
        # one series needs no legend, and QtCharts' own elides persona names: BarChart draws its own
        self._chart.legend().hide()
        self.setStyleSheet("background: transparent")
        self._empty = QLabel(tr("No data yet"), self)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setStyleSheet("color: palette(placeholder-text)")
        self._show_empty(True)

    @property
    def empty_text(self) -> str:
        return self._empty.text()

    @empty_text.setter
    def empty_text(self, text: str) -> None:
        self._empty.setText(text)

    def _show_empty(self, empty: bool) -> None:
        self._empty.setVisible(empty)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._empty.setGeometry(self.rect().adjusted(12, 12, -12, -12))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self._style_axes()

    def _clear(self) -> None:
        self._chart.removeAllSeries()
        for axis in self._chart.axes():
            self._chart.removeAxis(axis)

    def _style_axes(self) -> None:
        """QtCharts keeps its own fonts and colours; give it the window's (presentation mode, dark themes)."""
        text = self.palette().text().color()
        grid = self.palette().mid().color()
        self._chart.setTitleFont(self.font())
        self._chart.setTitleBrush(text)
        for axis in self._chart.axes():
            axis.setLabelsFont(self.font())
            axis.setLabelsColor(text)
            axis.setTitleFont(self.font())
            axis.setTitleBrush(text)
            axis.setGridLineColor(grid)
            axis.setLinePenColor(grid)


class BarChart(QWidget):
    """Pass rate per category, one bar per persona; bands mark where forgetting and over-generalisation show.

    The legend is a wrapping label above the chart: QtCharts' own legend elides
    persona names to "Fine-tune..." on one line, which a class cannot read.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: list[str] = []
        self.groups: list[tuple[str, list[float | None]]] = []
        self.highlights: dict[int, str] = {}
        self.intervals: list[list[list[float] | None]] = []
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.view = _BarView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.legend)
        layout.addWidget(self.view, 1)
        self.setMinimumHeight(220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.legend.hide()

    @property
    def empty_text(self) -> str:
        return self.view.empty_text

    @empty_text.setter
    def empty_text(self, text: str) -> None:
        self.view.empty_text = text

    def set_data(
        self,
        series: list[str],
        groups: list[tuple[str, list[float | None]]],
        highlights: dict[int, str] | None = None,
        intervals: list[list[list[float] | None]] | None = None,
    ) -> None:
        """``groups`` are (label, one value in 0..1 per series); None (not asked) draws no bar.

        ``intervals`` (per group, per series: [low, high] in 0..1) become error bars: a class
        sees at once whether two bars differ by more than the noise of a few probes.

        ``highlights`` maps a group's index to what a class should look for there
        ("where forgetting shows"): those groups get a shaded band, named once in the legend.
        """
        self.series, self.groups, self.highlights = series, groups, dict(highlights or {})
        self.intervals = intervals or []
        self.view.draw(series, groups, self.highlights, self.intervals)
        keys = [
            f'<span style="color:{PALETTE[i % len(PALETTE)]}">■</span>&nbsp;{_nbsp(name)}'
            for i, name in enumerate(series)
        ]
        shade = f"rgba({HIGHLIGHT.red()},{HIGHLIGHT.green()},{HIGHLIGHT.blue()},{HIGHLIGHT.alphaF() * 2:.2f})"
        keys += [
            f'<span style="background:{shade}">&nbsp;&nbsp;&nbsp;</span>&nbsp;{_nbsp(what)}'
            for what in dict.fromkeys(self.highlights.values())
        ]
        self.legend.setText(" &nbsp; ".join(keys))
        self.legend.setVisible(bool(groups))


def _nbsp(text: str) -> str:
    """A legend entry wraps as a whole: "Fine-tuned + prompt" must not break after "Fine-tuned"."""
    return html.escape(text).replace(" ", "&nbsp;")


class _BarView(_ChartView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bars: QBarSeries | None = None
        self.error_bars = 0
        self._n = (0, 0)  # groups, series: for fitting the numbers to the bars

    def draw(
        self,
        series: list[str],
        groups: list[tuple[str, list[float | None]]],
        bands: dict[int, str],
        intervals: list[list[list[float] | None]] | None = None,
    ) -> None:
        self._bars = None  # removeAllSeries deletes it
        self.error_bars = 0
        self._clear()
        self._show_empty(not groups)
        if not groups:
            return
        self._n = (len(groups), len(series))
        y_axis = QValueAxis()
        y_axis.setRange(0, 112)  # headroom above 100% for the numbers on the bars
        y_axis.setTickType(QValueAxis.TickType.TicksDynamic)
        y_axis.setTickAnchor(0)
        y_axis.setTickInterval(25)
        y_axis.setLabelFormat("%d%%")
        self._chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        self._add_bands(y_axis, len(groups), bands)
        bars = QBarSeries()
        for i, name in enumerate(series):
            bar_set = QBarSet(name)
            bar_set.setColor(QColor(PALETTE[i % len(PALETTE)]))
            bar_set.setBorderColor(QColor(PALETTE[i % len(PALETTE)]))
            for _, values in groups:
                value = values[i] if i < len(values) else None
                bar_set.append(0.0 if value is None else float(round(value * 100)))
            bars.append(bar_set)
        bars.setBarWidth(0.85)
        bars.setLabelsPosition(QBarSeries.LabelsPosition.LabelsOutsideEnd)
        bars.setLabelsPrecision(3)
        self._chart.addSeries(bars)
        self._bars = bars
        x_axis = QBarCategoryAxis()
        x_axis.setTruncateLabels(False)
        # axis labels are rich text: break at spaces and hyphens rather than eliding "open opini…"
        x_axis.append([label.replace("-", "-<br>").replace(" ", "<br>") for label, _ in groups])
        self._chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        bars.attachAxis(x_axis)
        bars.attachAxis(y_axis)
        self._add_error_bars(y_axis, len(groups), len(series), intervals or [])
        self._style_axes()  # and fits the numbers to the bars

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)
        self._fit_numbers()

    def _style_axes(self) -> None:
        super()._style_axes()
        self._fit_numbers()

    def _fit_numbers(self) -> None:
        """Numbers on the bars: across if they fit, else upright, else none rather than overlapping."""
        bars = getattr(self, "_bars", None)
        if bars is None or 0 in self._n:
            return
        n_groups, n_series = self._n
        plot = self._chart.plotArea().width() or self.width() * 0.85
        bar_w = plot / n_groups * 0.85 / n_series
        font = QFont(self.font())
        size = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
        while size > 8 and QFontMetricsF(font).horizontalAdvance("100") > bar_w + 2:
            size -= 0.5
            font.setPointSizeF(size)
        across = QFontMetricsF(font).horizontalAdvance("100") <= bar_w + 2
        upright = not across and QFontMetricsF(font).height() <= bar_w + 4
        bars.setLabelsAngle(0 if across else -90)
        bars.setLabelsVisible(across or upright)
        for bar_set in bars.barSets():
            bar_set.setLabelFont(font)
            bar_set.setLabelColor(self.palette().text().color())

    def _add_error_bars(
        self, y_axis: QValueAxis, n_groups: int, n_series: int, intervals: list[list[list[float] | None]]
    ) -> None:
        """One vertical line per bar from the interval's low to high end, with caps.

        QtCharts has no error-bar series; lines on a hidden 0..n axis (category i spans i±0.5,
        the bars fill 0.85 of it) land on the bars' centres.
        """
        if not any(ci for group in intervals for ci in group):
            return
        axis = QValueAxis()
        axis.setRange(-0.5, n_groups - 0.5)
        axis.setVisible(False)
        self._chart.addAxis(axis, Qt.AlignmentFlag.AlignBottom)
        pen = QPen(self.palette().text().color())
        pen.setWidthF(1.5)
        width = 0.85 / n_series
        for g, group in enumerate(intervals[:n_groups]):
            for i, ci in enumerate(group[:n_series]):
                if not ci:
                    continue
                x = g - 0.425 + (i + 0.5) * width
                cap = width * 0.2
                line = QLineSeries()
                for px, py in ((x - cap, ci[0]), (x + cap, ci[0]), (x, ci[0]), (x, ci[1]),
                               (x - cap, ci[1]), (x + cap, ci[1])):  # fmt: skip
                    line.append(QPointF(px, py * 100))
                line.setPen(pen)
                self._chart.addSeries(line)
                line.attachAxis(axis)
                line.attachAxis(y_axis)
        self.error_bars = sum(1 for group in intervals for ci in group if ci)

    def _add_bands(self, y_axis: QValueAxis, n_groups: int, bands: dict[int, str]) -> None:
        """Bands are area series on a hidden 0..n axis under the bar categories (category i spans i±0.5)."""
        if not bands:
            return
        band_axis = QValueAxis()
        band_axis.setRange(-0.5, n_groups - 0.5)
        band_axis.setVisible(False)
        self._chart.addAxis(band_axis, Qt.AlignmentFlag.AlignBottom)
        for index, what in sorted(bands.items()):
            upper, lower = QLineSeries(), QLineSeries()
            for x in (index - 0.5, index + 0.5):
                upper.append(QPointF(x, 112))
                lower.append(QPointF(x, 0))
            band = QAreaSeries(upper, lower)
            # the area series does not own its edges: without a parent Python frees them under it
            upper.setParent(band)
            lower.setParent(band)
            band.setName(what)
            band.setBrush(HIGHLIGHT)
            band.setPen(QPen(Qt.PenStyle.NoPen))
            self._chart.addSeries(band)  # before the bars, so it is drawn under them
            band.attachAxis(band_axis)
            band.attachAxis(y_axis)


class LineChart(_ChartView):
    """One series over steps (the training loss): falling means the model is learning the data."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: list[float] = []
        self.title = ""
        self.setMinimumHeight(180)

    def set_values(self, values: list[float]) -> None:
        self.values = list(values)
        self._clear()
        self._show_empty(not self.values)
        self._chart.setTitle(self.title if self.values else "")
        if not self.values:
            return
        line = QLineSeries()
        pen = QPen(QColor(PALETTE[0]))
        pen.setWidth(3)
        line.setPen(pen)
        line.setPointsVisible(len(self.values) == 1)
        for step, value in enumerate(self.values, start=1):
            line.append(QPointF(step, value))
        self._chart.addSeries(line)
        x_axis = QValueAxis()
        x_axis.setRange(1, max(2, len(self.values)))
        x_axis.setLabelFormat("%d")
        x_axis.setTitleText(tr("step"))
        x_axis.setTickCount(min(6, max(2, len(self.values))))
        y_axis = QValueAxis()
        y_axis.setRange(0, max(self.values) * 1.05 or 1.0)
        y_axis.applyNiceNumbers()  # 0, 0.5, 1 … rather than 0.83, 1.66
        y_axis.setLabelFormat("%.1f")
        self._chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        self._chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        line.attachAxis(x_axis)
        line.attachAxis(y_axis)
        self._style_axes()
