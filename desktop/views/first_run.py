"""The first-launch offer: no fine-tuned adapter yet, so offer to train it now.

Half of the lesson needs the adapter, and a teacher opening the app before
class should not have to find the Train tab. The offer is a bar, not a modal
dialog: Base and Prompted TA answer while training runs in its subprocess.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

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
        self.setStyleSheet("#train-offer{background:#e3f0fb;border-radius:4px;} QLabel{color:#0b3a5e;}")
        row = QHBoxLayout(self)
        label = QLabel(TEXT)
        label.setWordWrap(True)
        row.addWidget(label, 1)
        self.train_now = QPushButton("Train now")
        self.train_now.setToolTip("Opens the Train tab and starts fine-tuning with the default settings")
        self.train_now.clicked.connect(self.accepted)
        self.later = QPushButton("Not now")
        self.later.setToolTip("The Train tab (Alt+T) trains it any time")
        self.later.clicked.connect(self.dismissed)
        row.addWidget(self.train_now)
        row.addWidget(self.later)
        self.hide()
