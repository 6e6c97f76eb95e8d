"""Course KB tab: edit the KB YAML with validation as you type and a live prompt preview.

The TA edits the same file the personas read, so the editor is strict: every
problem is listed with its field and line (click to jump), and Save refuses
text with problems, leaving the KB in use untouched. Edits go to the user's
copy in the data directory; the shipped KB is never written.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFontDatabase, QKeySequence, QShortcut, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import tr
from engine import paths
from engine.errors import KBError
from engine.kb import LANGUAGES, kb_path, user_kb_path
from engine.kb_edit import KBCheck, check_kb_text, revert_kb, save_kb_text

DEBOUNCE_MS = 400
LANGUAGE_NAMES = {"en": "English", "zh-TW": "繁體中文"}
ERROR_LINE = QColor("#fde2e1")


def estimate_tokens(text: str) -> int:
    """Rough count for when no model is loaded: ~4 bytes of UTF-8 per token in both languages."""
    return max(1, len(text.encode("utf-8")) // 4) if text else 0


class KBView(QWidget):
    saved = Signal(str)  # language whose KB changed on disk: the window reloads the Lab
    count_tokens = Signal(int, str)  # request id, text: counted by the worker's model

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.n_ctx = 0
        self.lang = lang if lang in LANGUAGES else "en"
        self.check = KBCheck()
        self._buffers: dict[str, str] = {}
        self._request = 0
        self._prompt = ""
        self._on_disk = ""  # the text as saved: unsaved edits are whatever differs from it

        self.language = QComboBox()
        for code in LANGUAGES:
            self.language.addItem(LANGUAGE_NAMES.get(code, code), code)
        self.language.setCurrentIndex(LANGUAGES.index(self.lang))
        self.language.currentIndexChanged.connect(self._on_language)
        self.file_label = QLabel()
        self.file_label.setWordWrap(True)
        self.save_button = QPushButton(tr("Save"))
        self.save_button.setToolTip("Ctrl+S")
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton(tr("Revert to the shipped KB"))
        self.revert_button.clicked.connect(self.revert)
        top = QHBoxLayout()
        top.addWidget(QLabel(tr("KB language:")))
        top.addWidget(self.language)
        top.addWidget(self.file_label, 1)
        top.addWidget(self.save_button)
        top.addWidget(self.revert_button)

        self.editor = QPlainTextEdit()
        self.editor.setObjectName("kb-editor")
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.problems = QListWidget()
        self.problems.setObjectName("kb-problems")
        self.problems.setWordWrap(True)
        self.problems.itemActivated.connect(self._jump)
        self.problems.itemClicked.connect(self._jump)
        self.status = QLabel()
        self.status.setObjectName("kb-status")
        self.status.setWordWrap(True)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.editor)
        problems_box = QWidget()
        pb = QVBoxLayout(problems_box)
        pb.setContentsMargins(0, 0, 0, 0)
        self.position = QLabel()
        self.position.setObjectName("kb-position")
        heading = QHBoxLayout()
        heading.addWidget(QLabel(tr("Problems")))
        heading.addStretch(1)
        heading.addWidget(self.position)
        pb.addLayout(heading)
        pb.addWidget(self.problems)
        left.addWidget(problems_box)
        left.setSizes([500, 160])

        self.tokens = QLabel()
        self.tokens.setObjectName("kb-tokens")
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("kb-preview")
        self.preview.setReadOnly(True)
        right = QWidget()
        rb = QVBoxLayout(right)
        rb.setContentsMargins(0, 0, 0, 0)
        heading = QHBoxLayout()
        heading.addWidget(QLabel(tr("System prompt preview")))
        heading.addStretch(1)
        heading.addWidget(self.tokens)
        rb.addLayout(heading)
        rb.addWidget(self.preview, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([640, 480])

        box = QVBoxLayout(self)
        box.addLayout(top)
        box.addWidget(split, 1)
        box.addWidget(self.status)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.validate)
        self.editor.textChanged.connect(self._on_edit)
        self.editor.cursorPositionChanged.connect(self._show_position)
        save = QShortcut(QKeySequence.StandardKey.Save, self)
        save.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save.activated.connect(self.save)
        self._load(self.lang)

    def changeEvent(self, event: QEvent) -> None:
        """The editor's fixed-width font would not follow the window's size (presentation mode)."""
        if event.type() == QEvent.Type.FontChange:
            font = self.editor.font()
            font.setPointSize(self.font().pointSize())
            self.editor.setFont(font)
        super().changeEvent(event)

    # -- files ---------------------------------------------------------------
    def _load(self, lang: str) -> None:
        self.lang = lang
        try:
            self._on_disk = kb_path(lang=lang).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, KBError) as exc:
            self._on_disk = ""
            self._say(str(exc), error=True)
        self.editor.blockSignals(True)
        self.editor.setPlainText(self._buffers.pop(lang, self._on_disk))
        self.editor.blockSignals(False)
        self._show_file()
        self._show_position()
        self.validate()

    def _show_file(self) -> None:
        user = user_kb_path(lang=self.lang)
        label = (
            tr("Editing your copy: {path}", path=user)
            if user.is_file()
            else tr("Shipped KB. Saving makes your own copy in {path}", path=paths.data_dir())
        )
        if self.unsaved():
            label += f" · {tr('Unsaved changes')}"
        self.file_label.setText(label)
        self.revert_button.setEnabled(user.is_file())

    def show_language(self, code: str) -> None:
        self.language.setCurrentIndex(self.language.findData(code))

    @Slot(int)
    def _on_language(self, index: int) -> None:
        code = str(self.language.itemData(index))
        if code == self.lang:
            return
        if self.unsaved():
            self._buffers[self.lang] = self.editor.toPlainText()  # kept, not lost, while away
        self._load(code)

    @Slot()
    def save(self) -> bool:
        """Validate now (not after the debounce) and refuse anything with problems."""
        self._timer.stop()
        self.validate()
        if not self.check.ok:
            self._say(
                tr("Not saved: fix the problems listed under the editor first. The saved KB is unchanged."),
                True,
            )
            return False
        try:
            save_kb_text(self.editor.toPlainText(), self.lang)
        except (KBError, OSError) as exc:
            self._say(str(exc), error=True)
            return False
        self._on_disk = self.editor.toPlainText()
        self._show_file()
        self._say(tr("Saved. The prompted personas now use this KB."))
        self.saved.emit(self.lang)
        return True

    @Slot()
    def revert(self) -> None:
        try:
            backup = revert_kb(self.lang)
        except OSError as exc:
            self._say(str(exc), error=True)
            return
        self._buffers.pop(self.lang, None)
        self._load(self.lang)
        if backup is not None:
            self._say(tr("Reverted to the shipped KB. Your edited copy is kept as {path}", path=backup))
            self.saved.emit(self.lang)

    # -- validation and preview ---------------------------------------------
    def unsaved(self) -> bool:
        return self.editor.toPlainText() != self._on_disk

    @Slot()
    def _on_edit(self) -> None:
        self._timer.start()
        if self.unsaved() != self.file_label.text().endswith(tr("Unsaved changes")):
            self._show_file()

    @Slot()
    def validate(self) -> None:
        self.check = check_kb_text(self.editor.toPlainText(), user_kb_path(lang=self.lang), self.lang)
        self.problems.clear()
        for problem in self.check.problems:
            where = tr("line {line}: ", line=problem.line) if problem.line else ""
            item = QListWidgetItem(f"{where}{problem.field}: {problem.message}")
            item.setData(Qt.ItemDataRole.UserRole, problem.line or 0)
            item.setForeground(QColor("#8a1c1c"))
            self.problems.addItem(item)
        if self.check.ok:
            self.problems.addItem(tr("No problems: this KB can be saved."))
            self._prompt = self.check.prompt or ""
            self.preview.setPlainText(self._prompt)
            self._count()
        self.save_button.setEnabled(self.check.ok)
        self.preview.setEnabled(self.check.ok)  # greyed: the last valid version, not this text
        stale = f"({tr('last valid version')})"
        if not self.check.ok and self._prompt and stale not in self.tokens.text():
            self.tokens.setText(f"{stale} {self.tokens.text()}")
        self._highlight([p.line for p in self.check.problems if p.line])

    def _highlight(self, lines: list[int]) -> None:
        marks = []
        for line in sorted(set(lines)):
            block = self.editor.document().findBlockByLineNumber(line - 1)
            if not block.isValid():
                continue
            sel = QTextEdit.ExtraSelection()
            sel.format.setBackground(ERROR_LINE)
            sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            sel.cursor = QTextCursor(block)
            marks.append(sel)
        self.editor.setExtraSelections(marks)

    def error_lines(self) -> list[int]:
        """The highlighted lines, 1-based: what the TA sees marked in the editor."""
        return [s.cursor.blockNumber() + 1 for s in self.editor.extraSelections()]

    @Slot()
    def _show_position(self) -> None:
        """The problems name lines; this says which line the cursor is on."""
        cursor = self.editor.textCursor()
        self.position.setText(
            tr("Line {line}, column {col}", line=cursor.blockNumber() + 1, col=cursor.columnNumber() + 1)
        )

    @Slot(QListWidgetItem)
    def _jump(self, item: QListWidgetItem) -> None:
        line = int(item.data(Qt.ItemDataRole.UserRole) or 0)
        if line <= 0:
            return
        block = self.editor.document().findBlockByLineNumber(line - 1)
        self.editor.setTextCursor(QTextCursor(block))
        self.editor.centerCursor()
        self.editor.setFocus()

    def _count(self) -> None:
        self._request += 1
        self._show_tokens(None)
        self.count_tokens.emit(self._request, self._prompt)

    @Slot(int, int)
    def on_counted(self, request: int, n: int) -> None:
        if request == self._request:
            self._show_tokens(n if n >= 0 else None, final=True)

    def set_context(self, n_ctx: int) -> None:
        self.n_ctx = n_ctx
        if self.check.ok:
            self._count()

    def _show_tokens(self, n: int | None, final: bool = False) -> None:
        ctx = self.n_ctx or "?"
        if n is not None:
            text = tr("{n} / {ctx} tokens", n=n, ctx=ctx)
        elif final or not self.n_ctx:
            guess = estimate_tokens(self._prompt)
            text = tr("≈ {n} / {ctx} tokens (estimate: no model loaded)", n=guess, ctx=ctx)
        else:
            text = tr("counting tokens…")
        over = n is not None and bool(self.n_ctx) and n > self.n_ctx // 2  # little room left to answer
        self.tokens.setText(_styled(text, ERROR_STYLE) if over else text)

    def _say(self, message: str, error: bool = False) -> None:
        self.status.setText(_styled(message, ERROR_STYLE if error else "color:#1b5e20"))


def _styled(text: str, style: str) -> str:
    """Rich text rather than a style sheet: a styled label stops following the projector font size."""
    return f'<span style="{style}">{html.escape(text)}</span>'


ERROR_STYLE = "color:#8a1c1c;font-weight:bold"
