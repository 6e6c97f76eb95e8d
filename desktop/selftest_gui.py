"""The GUI half of ``talab-app --self-test``: the window's toolkit can draw, headless.

The engine's self-test proves the model answers; this proves the build also
carries what the window needs (Qt's platform plugins, fonts, QtCharts), which
a packaging mistake can leave out while the engine still works. It draws the
probe chart offscreen and checks the bars' colours landed in the image.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO


def run(out: TextIO | None = None) -> None:
    """Raises RuntimeError with one readable line when the chart cannot be drawn."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # no display needed, and none is touched
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QApplication

    from desktop.views.chart import BarChart
    from engine.report_html import PALETTE

    # the offscreen plugin's notices ("does not support propagateSizeHints") are not for a teacher
    qInstallMessageHandler(lambda *_: None)
    app = QApplication.instance() or QApplication(["talab-app"])
    chart = BarChart()
    chart.resize(480, 280)
    chart.set_data(
        ["Base", "Prompted TA"], [("identity", [0.5, 1.0]), ("general skill", [1.0, 0.5])], {1: "x"}
    )
    chart.show()
    app.processEvents()
    image = chart.view.grab().toImage()
    chart.close()
    seen = {image.pixel(x, y) for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}
    missing = [c for c in PALETTE[:2] if QColor(c).rgb() not in seen]
    if image.isNull() or missing:
        raise RuntimeError(f"the probe chart drew no bars in {', '.join(missing) or 'any colour'}")
    print(
        f"gui      Qt {pyside_version}: the window toolkit and QtCharts draw offscreen",
        file=out or sys.stdout,
    )
