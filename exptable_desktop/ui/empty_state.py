"""The one empty-state widget: what a view shows when it has nothing to show.

Every empty view says what is going on (the title), what to do about it (the body) and, where
code is the answer, the lines to write (a selectable snippet with a Copy button). An optional
button does the first step for the person (e.g. "Add experiments…").
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from exptable_desktop.ui import icons
from exptable_desktop.ui.palette import themed

# Colours by role of ``ui.palette``, so the light and the dark palette both fit.
TITLE_STYLE = "color: $text_secondary; font-size: 15px; font-weight: bold;"
BODY_STYLE = "color: $text_muted;"
CODE_STYLE = ("color: $text; background: $surface_alt; border: 1px solid $border; border-radius: 4px; "
              "padding: 8px;")
ICON_SIZE = 40
COLUMN_WIDTH = 600

# What a script needs to report into ExpTable (README, "Instrument your training script"). Short
# lines: they should fit the details panel unwrapped.
SDK_START = ('from exptable_desktop import Task\n'
             'task = Task.init(project_name="examples", task_name="my run")\n')
LOGGER = 'logger = task.get_logger()\n'
SCALARS_SNIPPET = SDK_START + LOGGER + 'logger.report_scalar("loss", "train", loss, iteration=step)'
PLOTS_SNIPPET = SDK_START + LOGGER + 'logger.report_histogram("weights", "layer1", counts, iteration=step)'
DEBUG_SAMPLES_SNIPPET = SDK_START + LOGGER + 'logger.report_image("samples", "input", iteration=step, image=array)'


class EmptyState(QWidget):
    """A centred column: an icon, a title, a body text and, optionally, a code snippet and a button.

    ``set_content`` changes what it says, so one widget serves a view's several empty cases.
    """

    sig_action_clicked = Signal()

    def __init__(self, title: str = "", body: str = "", code: str = "", *, icon: str | None = None,
                 action: str = "", object_name: str = "emptyState", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.icon_label = QLabel()
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label = QLabel()
        self.title_label.setObjectName("emptyStateTitle")
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label.setWordWrap(True)
        self.title_label.setStyleSheet(themed(TITLE_STYLE))
        self.body_label = QLabel()
        self.body_label.setObjectName("emptyStateBody")
        self.body_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body_label.setWordWrap(True)
        self.body_label.setStyleSheet(themed(BODY_STYLE))
        self.code_label = QLabel()
        self.code_label.setObjectName("emptyStateCode")
        self.code_label.setTextFormat(Qt.TextFormat.PlainText)
        # Wrapped in a narrow panel rather than widening it: its unwrapped width would be the panel's minimum.
        self.code_label.setWordWrap(True)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                                | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.code_label.setCursor(Qt.CursorShape.IBeamCursor)
        self.code_label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.code_label.setStyleSheet(themed(CODE_STYLE))
        self.code_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("emptyStateCopy")
        self.copy_button.setToolTip("Copy these lines")
        self.copy_button.clicked.connect(self.copy_code)
        self.action_button = QPushButton()
        self.action_button.setObjectName("emptyStateAction")
        self.action_button.clicked.connect(self.sig_action_clicked)

        # As wide as there is room for, up to COLUMN_WIDTH, centred: the column's stretch outweighs the
        # margins' until it is at its widest, then they share what is left.
        column = QFrame()
        column.setMaximumWidth(COLUMN_WIDTH)
        column.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        inner = QVBoxLayout(column)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(10)
        inner.addWidget(self.icon_label)
        inner.addWidget(self.title_label)
        inner.addWidget(self.body_label)
        inner.addWidget(self.code_label)
        copy_row = QHBoxLayout()
        copy_row.addStretch(1)
        copy_row.addWidget(self.copy_button)
        inner.addLayout(copy_row)
        action_row = QHBoxLayout()
        action_row.addStretch(1)
        action_row.addWidget(self.action_button)
        action_row.addStretch(1)
        inner.addLayout(action_row)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 24, 16, 24)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column, 1000)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.set_icon(icon)
        self.set_content(title, body, code)
        self.set_action(action)

    def set_icon(self, name: str | None) -> None:
        if name:
            self.icon_label.setPixmap(icons.pixmap(name, ICON_SIZE, self.devicePixelRatioF()))
        self.icon_label.setVisible(bool(name))

    def set_content(self, title: str, body: str = "", code: str = "") -> None:
        """What the view says: ``title`` (what is going on), ``body`` (what to do), ``code`` (lines to write)."""
        self.title_label.setText(title)
        self.body_label.setText(body)
        self.body_label.setVisible(bool(body))
        self.code_label.setText(code)
        self.code_label.setVisible(bool(code))
        self.copy_button.setVisible(bool(code))

    def set_action(self, text: str) -> None:
        """A button under the text doing the first step (``sig_action_clicked``); "" for none."""
        self.action_button.setText(text)
        self.action_button.setVisible(bool(text))

    def title(self) -> str:
        return self.title_label.text()

    def body(self) -> str:
        return self.body_label.text()

    def code(self) -> str:
        return self.code_label.text()

    def text(self) -> str:
        """Everything it says, as one text (for tests and accessibility)."""
        return "\n".join(part for part in (self.title(), self.body(), self.code()) if part)

    def copy_code(self) -> None:
        QGuiApplication.clipboard().setText(self.code())
