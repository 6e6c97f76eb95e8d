"""The first-launch offer: no fine-tuned adapter yet, so offer to train it now.

Half of the lesson needs the adapter, and a teacher opening the app before
class should not have to find the Train tab. The offer is a bar, not a modal
dialog: Base and Prompted TA answer while training runs in its subprocess.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from desktop.i18n import tr


def tint(widget: QWidget, background: str, text: str) -> None:
    """Colour through the palette, not a style sheet: a style sheet stops the text from following
    the window's font size, and the banners must grow with presentation mode."""
    pal = widget.palette()
    pal.setColor(QPalette.ColorRole.Window, QColor(background))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(text))
    widget.setPalette(pal)
    widget.setAutoFillBackground(True)


TEXT = (
    "<b>The fine-tuned TA has not been trained yet.</b> Train it now (about 3 minutes on this CPU); "
    "Base and Prompted TA can be used meanwhile."
)


class TrainOffer(QFrame):
    accepted = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("train-offer")
        tint(self, "#e3f0fb", "#0b3a5e")
        row = QHBoxLayout(self)
        label = QLabel(tr(TEXT))
        label.setWordWrap(True)
        row.addWidget(label, 1)
        self.train_now = QPushButton(tr("Train now"))
        self.train_now.setToolTip(tr("Opens the Train tab and starts fine-tuning with the default settings"))
        self.train_now.clicked.connect(self.accepted)
        self.later = QPushButton(tr("Not now"))
        self.later.setToolTip(tr("The Train tab (Alt+T) trains it any time"))
        self.later.clicked.connect(self.dismissed)
        row.addWidget(self.train_now)
        row.addWidget(self.later)
        self.hide()
