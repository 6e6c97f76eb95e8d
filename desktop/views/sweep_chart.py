"""The adapter-scale curve: five figures against the adapter scale, each point with its 95% interval.

It answers the class's question "is there a scale that keeps the identity and loses little?":
identity and course facts should rise with the scale while general ability holds and
over-generalisation stays low. The legend is a wrapping label, as the bar chart's is.
"""

from __future__ import annotations

from PySide6.QtCharts import QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop.i18n import tr
from desktop.views.chart import _ChartView, _nbsp
from engine.report_html import PALETTE
from engine.sweep import CURVE, SweepCurve


class SweepChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.view = _CurveView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(self.view, 1)
        self.setMinimumHeight(240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.legend.hide()

    @property
    def empty_text(self) -> str:
        return self.view.empty_text

    @empty_text.setter
    def empty_text(self, text: str) -> None:
        self.view.empty_text = text

    def set_curve(self, curve: SweepCurve | None) -> None:
        self.view.draw(curve)
        keys = [
            f'<span style="color:{PALETTE[i % len(PALETTE)]}">■</span>&nbsp;{_nbsp(tr(label))}'
            for i, (key, _, label) in enumerate(CURVE)
            if curve and key in self.view.drawn
        ]
        self.legend.setText(" &nbsp; ".join(keys))
        self.legend.setVisible(bool(keys))


class _CurveView(_ChartView):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.drawn: list[str] = []  # the figure keys with at least one point
        self.error_bars = 0

    def draw(self, curve: SweepCurve | None) -> None:
        self._clear()
        self.drawn, self.error_bars = [], 0
        has_points = curve is not None and any(v is not None for vals in curve.values.values() for v in vals)
        self._show_empty(not has_points)
        if curve is None or not has_points:
            return
        x_axis = QValueAxis()
        lo, hi = min(curve.scales), max(curve.scales)
        pad = (hi - lo) * 0.04 or 0.05  # the error bars' caps at 0 and 1 stay inside the plot
        x_axis.setRange(lo - pad, hi + pad)
        x_axis.setTickType(QValueAxis.TickType.TicksDynamic)
        x_axis.setTickAnchor(0)
        x_axis.setTickInterval(0.2 if hi - lo > 0.5 else 0.1)
        x_axis.setLabelFormat("%.1f")
        x_axis.setTitleText(tr("adapter scale (0 = base model, 1 = as trained)"))
        y_axis = QValueAxis()
        y_axis.setRange(0, 105)
        y_axis.setTickType(QValueAxis.TickType.TicksDynamic)
        y_axis.setTickAnchor(0)
        y_axis.setTickInterval(25)
        y_axis.setLabelFormat("%d%%")
        self._chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        self._chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        cap = (hi - lo) * 0.012 or 0.01
        for i, (key, _, label) in enumerate(CURVE):
            color = QColor(PALETTE[i % len(PALETTE)])
            points = [(s, v) for s, v in zip(curve.scales, curve.values[key], strict=True) if v is not None]
            if not points:
                continue
            self.drawn.append(key)
            line, dots = QLineSeries(), QScatterSeries()
            line.setName(tr(label))
            pen = QPen(color)
            pen.setWidthF(2.5)
            line.setPen(pen)
            dots.setColor(color)
            dots.setBorderColor(color)
            dots.setMarkerSize(8)
            for s, v in points:
                line.append(QPointF(s, v * 100))
                dots.append(QPointF(s, v * 100))
            for series in (line, dots):
                self._chart.addSeries(series)
                series.attachAxis(x_axis)
                series.attachAxis(y_axis)
            # the interval drawn a hair to the right of the point, so five bars at one scale stay apart
            shift = (i - 2) * cap * 0.8
            for s, ci in zip(curve.scales, curve.intervals[key], strict=True):
                if ci:
                    self._error_bar(s + shift, ci, cap, color, x_axis, y_axis)
        self._style_axes()

    def _error_bar(
        self,
        x: float,
        ci: tuple[float, float],
        cap: float,
        color: QColor,
        x_axis: QValueAxis,
        y_axis: QValueAxis,
    ) -> None:
        bar = QLineSeries()
        low, high = ci[0] * 100, ci[1] * 100
        for px, py in ((x - cap, low), (x + cap, low), (x, low), (x, high), (x - cap, high), (x + cap, high)):
            bar.append(QPointF(px, py))
        pen = QPen(color)
        pen.setWidthF(1.2)
        bar.setPen(pen)
        bar.setOpacity(0.7)
        self._chart.addSeries(bar)
        bar.attachAxis(x_axis)
        bar.attachAxis(y_axis)
        self.error_bars += 1
