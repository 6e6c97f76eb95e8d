"""A grouped bar chart drawn with QPainter (QtCharts is not in PySide6-Essentials).

Used for the probe scores: a class reads bars faster than a table of
percentages on a projector.
"""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from engine.report_html import PALETTE


class BarChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: list[str] = []
        self.groups: list[tuple[str, list[float | None]]] = []
        self.empty_text = "No data yet"
        self.setMinimumHeight(220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_data(self, series: list[str], groups: list[tuple[str, list[float | None]]]) -> None:
        """``groups`` are (label, one value in 0..1 per series); None draws no bar."""
        self.series, self.groups = series, groups
        self.update()

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = p.fontMetrics()
        left = 8 + fm.horizontalAdvance("100%")
        if not self.groups:
            p.setPen(self.palette().placeholderText().color())
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        # the legend wraps onto more lines rather than running off a narrow window
        spots: list[tuple[float, int]] = []
        x, line = float(left), 0
        for name in self.series:
            width = 28 + fm.horizontalAdvance(name)
            if x + width > self.width() - 12 and x > left:
                x, line = float(left), line + 1
            spots.append((x, line))
            x += width
        for i, (name, (x, row)) in enumerate(zip(self.series, spots, strict=True)):
            top = 4 + row * (fm.height() + 2)
            p.fillRect(QRectF(x, top + (fm.height() - 12) / 2, 12, 12), QColor(PALETTE[i % len(PALETTE)]))
            p.setPen(self.palette().text().color())
            p.drawText(int(x + 16), int(top + fm.ascent()), name)
        legend_h = 4 + (line + 1) * (fm.height() + 2)
        # room above the bars for their numbers and below them for two lines of labels
        rect = QRectF(self.rect()).adjusted(left, legend_h + fm.height() + 4, -12, -8 - 2 * fm.height())
        # axis and grid
        grid = QPen(self.palette().mid().color())
        for tick in (0, 25, 50, 75, 100):
            y = rect.bottom() - rect.height() * tick / 100
            p.setPen(grid)
            p.drawLine(int(rect.left()), int(y), int(rect.right()), int(y))
            p.setPen(self.palette().text().color())
            p.drawText(4, int(y + fm.ascent() / 2), f"{tick}%")
        group_w = rect.width() / len(self.groups)
        bar_w = max(4.0, (group_w * 0.8) / max(1, len(self.series)))
        number_font = self._fitting_font(bar_w - 1)
        for g, (label, values) in enumerate(self.groups):
            gx = rect.left() + g * group_w + group_w * 0.1
            for i, value in enumerate(values):
                if value is None:
                    continue
                h = rect.height() * max(0.0, min(1.0, value))
                bar = QRectF(gx + i * bar_w, rect.bottom() - h, bar_w - 2, max(h, 2.0))
                p.fillRect(bar, QColor(PALETTE[i % len(PALETTE)]))
                if number_font is None:
                    continue
                # the number on top, in the axis' percent: a zero bar must read as 0, not as "missing"
                p.setPen(self.palette().text().color())
                p.setFont(number_font)
                p.drawText(
                    QRectF(bar.left() - 2, bar.top() - fm.height() - 2, bar.width() + 4, fm.height()),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                    f"{value * 100:.0f}",
                )
                p.setFont(self.font())
            p.setPen(self.palette().text().color())
            # wrap at spaces and hyphens; shrink the font for a long word, elide only as a last resort
            words = label.replace("-", "- ").split()
            longest = max(words, key=fm.horizontalAdvance)
            font = self._fitting_font(group_w - 4, longest, floor=8) or self.font()
            p.setFont(font)
            small = QFontMetricsF(font)
            text = " ".join(small.elidedText(w, Qt.TextElideMode.ElideRight, group_w) for w in words)
            p.drawText(
                QRectF(rect.left() + g * group_w, rect.bottom() + 4, group_w, 2 * fm.height() + 2),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                text.replace("- ", "-"),
            )
            p.setFont(self.font())

    def _fitting_font(self, width: float, text: str = "100", floor: float = 7) -> QFont | None:
        """The window's font, shrunk (not below ``floor`` pt) until ``text`` fits; None if it never does."""
        font = QFont(self.font())
        size = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
        while size >= floor:
            font.setPointSizeF(size)
            if QFontMetricsF(font).horizontalAdvance(text) <= width + 4:
                return font
            size -= 0.5
        return None


class LineChart(QWidget):
    """One series over steps (the training loss): falling means the model is learning the data."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: list[float] = []
        self.title = ""
        self.empty_text = "No data yet"
        self.setMinimumHeight(180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_values(self, values: list[float]) -> None:
        self.values = list(values)
        self.update()

    def paintEvent(self, event: object) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(52, 24, -16, -28)
        text = self.palette().text().color()
        if not self.values:
            p.setPen(self.palette().placeholderText().color())
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        top = max(self.values) or 1.0
        p.setPen(text)
        p.drawText(4, 16, self.title)
        p.setPen(QPen(self.palette().mid().color()))
        p.drawLine(int(rect.left()), int(rect.bottom()), int(rect.right()), int(rect.bottom()))
        p.drawLine(int(rect.left()), int(rect.top()), int(rect.left()), int(rect.bottom()))
        p.setPen(text)
        p.drawText(4, int(rect.top() + 10), f"{top:.2f}")
        p.drawText(4, int(rect.bottom()), "0")
        n = len(self.values)
        p.drawText(int(rect.right() - 60), int(rect.bottom() + 20), f"step {n}")
        pen = QPen(QColor(PALETTE[0]))
        pen.setWidth(3)
        p.setPen(pen)
        step_w = rect.width() / max(1, n - 1)
        points = [
            (rect.left() + i * step_w, rect.bottom() - rect.height() * v / top)
            for i, v in enumerate(self.values)
        ]
        for (x1, y1), (x2, y2) in pairwise(points):
            p.drawLine(int(x1), int(y1), int(x2), int(y2))
        if n == 1:
            p.drawEllipse(int(points[0][0]) - 3, int(points[0][1]) - 3, 6, 6)
