"""The panel header: type icon, name (edit in place), id with copy, status and
progress, tags (add / remove), the action menu, description (edit)."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionFrame,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import actions
from exptable_desktop.core import details as data
from exptable_desktop.core import states as st
from exptable_desktop.ui.details.common import STATUS_COLOURS, FlowLayout, tag_colours, type_pixmap
from exptable_desktop.ui.palette import themed

ActionMenuFactory = Callable[[list[str]], QMenu]


class TagChip(QFrame):
    """One tag in the details header, in the tag's colours, with a × that asks (``sig_remove_requested``) for its
    removal."""

    sig_remove_requested = Signal(str)

    def __init__(self, name: str, background: str | None, foreground: str | None, parent=None):
        super().__init__(parent)
        self.name = name
        self.setObjectName("tagChip")
        bg, fg = tag_colours(name, background, foreground)
        self.setStyleSheet(f"QFrame#tagChip {{ background: {bg}; border-radius: 9px; }}"
                           f"QLabel, QToolButton {{ color: {fg}; background: transparent; border: none; }}")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 1, 2, 1)
        layout.setSpacing(2)
        layout.addWidget(QLabel(name))
        self.remove_button = QToolButton()
        self.remove_button.setText("×")
        self.remove_button.setToolTip(f"Remove tag {name}")
        self.remove_button.clicked.connect(lambda: self.sig_remove_requested.emit(self.name))
        layout.addWidget(self.remove_button)


class ElidedNameEdit(QLineEdit):
    """The name, edited in place; while not being edited a name too long for the room ends in "…"
    instead of running under the id chip beside it."""

    def displayed_text(self) -> str:
        if self.hasFocus():
            return self.text()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self._text_rect().width())

    def _text_rect(self) -> QRect:
        option = QStyleOptionFrame()
        self.initStyleOption(option)
        rect = self.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, self)
        return rect.marginsRemoved(self.textMargins()).adjusted(2, 0, -2, 0)

    def minimumSizeHint(self):  # noqa: N802
        hint = super().minimumSizeHint()
        hint.setWidth(self.fontMetrics().horizontalAdvance("Wwww…") + 12)
        return hint

    def paintEvent(self, event) -> None:  # noqa: N802
        shown = self.displayed_text()
        if self.hasFocus() or shown == self.text():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        option = QStyleOptionFrame()
        self.initStyleOption(option)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelLineEdit, option, painter, self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self._text_rect(), int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), shown)


class DetailsHeader(QWidget):
    """The top of the details panel (see the module docstring): shows one experiment and saves in-place edits of
    its name, tags and description, then signals the table to refresh the row."""

    # Name, description or tags were saved: the table should refresh its row.
    sig_experiment_edited = Signal()
    sig_message_posted = Signal(str)
    sig_full_screen_toggled = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("detailsHeader")
        self.experiment_id: str | None = None
        self.info: dict = {}
        self._menu_factory: ActionMenuFactory | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 4)
        layout.setSpacing(4)

        top = QHBoxLayout()
        self.back_button = QToolButton()
        self.back_button.setObjectName("detailsFullScreenBack")
        self.back_button.setText("← Table")
        self.back_button.setToolTip("Back to the experiments table")
        self.back_button.setAutoRaise(True)
        self.back_button.hide()
        top.addWidget(self.back_button)
        self.type_label = QLabel()
        self.type_label.setObjectName("detailsTypeIcon")
        top.addWidget(self.type_label)
        self.name_edit = ElidedNameEdit()
        self.name_edit.setObjectName("detailsName")
        self.name_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.name_edit.setToolTip("Click to rename")
        self.name_edit.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        font = self.name_edit.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.name_edit.setFont(font)
        self.name_edit.setStyleSheet(themed("QLineEdit { border: 1px solid transparent; background: transparent; }"
                                     "QLineEdit:hover { border: 1px solid $border; }"
                                     "QLineEdit:focus { border: 1px solid $accent_strong; background: $surface; }"))
        top.addWidget(self.name_edit, 1)
        self.id_label = QLabel()
        self.id_label.setObjectName("detailsId")
        self.id_label.setStyleSheet(themed("QLabel { color: $text_secondary; background: $surface_alt; border-radius: 4px; "
                                    "padding: 2px 6px; font-family: monospace; }"))
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.id_label)
        self.copy_id_button = QToolButton()
        self.copy_id_button.setObjectName("detailsCopyId")
        self.copy_id_button.setText("Copy")
        self.copy_id_button.setToolTip("Copy the experiment id")
        top.addWidget(self.copy_id_button)
        self.menu_button = QToolButton()
        self.menu_button.setObjectName("detailsActionMenu")
        self.menu_button.setText("☰")
        self.menu_button.setToolTip("Actions")
        self.menu_button.hide()
        top.addWidget(self.menu_button)
        self.full_screen_button = QToolButton()
        self.full_screen_button.setObjectName("detailsFullScreen")
        self.full_screen_button.setCheckable(True)
        self.full_screen_button.setText("⤢")
        self.full_screen_button.setToolTip("View full screen")
        top.addWidget(self.full_screen_button)
        layout.addLayout(top)

        status_row = QHBoxLayout()
        self.status_label = QLabel()
        self.status_label.setObjectName("detailsStatus")
        status_row.addWidget(self.status_label)
        self.progress = QProgressBar()
        self.progress.setObjectName("detailsProgress")
        self.progress.setRange(0, 100)
        self.progress.setFixedWidth(120)
        self.progress.setFixedHeight(14)
        self.progress.setTextVisible(True)
        status_row.addWidget(self.progress)
        self.updated_label = QLabel()
        self.updated_label.setStyleSheet(themed("color: $text_muted;"))
        # A narrow panel clips this line (its tooltip has it all) rather than widening the header.
        self.updated_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        status_row.addWidget(self.updated_label, 1)
        layout.addLayout(status_row)

        tags_host = QWidget()
        self.tags_layout = FlowLayout(tags_host)
        self.tag_chips: list[TagChip] = []
        self.add_tag_button = QToolButton()
        self.add_tag_button.setObjectName("detailsAddTag")
        self.add_tag_button.setText("+ Add tag")
        self.add_tag_button.setAutoRaise(True)
        self.tag_edit = QLineEdit()
        self.tag_edit.setObjectName("detailsTagEdit")
        self.tag_edit.setPlaceholderText("Tag name, Enter to add")
        self.tag_edit.setFixedWidth(180)
        self.tag_edit.hide()
        self.tags_layout.addWidget(self.add_tag_button)
        self.tags_layout.addWidget(self.tag_edit)
        layout.addWidget(tags_host)

        description_row = QHBoxLayout()
        self.description_label = QLabel()
        self.description_label.setObjectName("detailsDescription")
        self.description_label.setWordWrap(True)
        self.description_label.setStyleSheet(themed("color: $text_secondary;"))
        description_row.addWidget(self.description_label, 1)
        self.edit_description_button = QToolButton()
        self.edit_description_button.setObjectName("detailsEditDescription")
        self.edit_description_button.setText("Edit")
        self.edit_description_button.setAutoRaise(True)
        description_row.addWidget(self.edit_description_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(description_row)
        self.description_editor = QWidget()
        editor_layout = QVBoxLayout(self.description_editor)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setObjectName("detailsDescriptionEdit")
        self.description_edit.setFixedHeight(70)
        editor_layout.addWidget(self.description_edit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.description_save = QPushButton("Save")
        self.description_cancel = QPushButton("Cancel")
        buttons.addWidget(self.description_cancel)
        buttons.addWidget(self.description_save)
        editor_layout.addLayout(buttons)
        self.description_editor.hide()
        layout.addWidget(self.description_editor)

        self.name_edit.editingFinished.connect(self.commit_name)
        self.copy_id_button.clicked.connect(self.copy_id)
        self.menu_button.clicked.connect(self._open_menu)
        self.full_screen_button.toggled.connect(self.sig_full_screen_toggled.emit)
        self.add_tag_button.clicked.connect(self._start_tag)
        self.tag_edit.returnPressed.connect(self._commit_tag)
        self.tag_edit.editingFinished.connect(self._end_tag)
        self.edit_description_button.clicked.connect(self.begin_description)
        self.description_save.clicked.connect(self.save_description)
        self.description_cancel.clicked.connect(self.cancel_description)

    # -- Content -------------------------------------------------------------------------
    def show_header(self, info: dict | None) -> None:
        self.info = info or {}
        self.experiment_id = info["id"] if info else None
        self.setEnabled(info is not None)
        if info is None:
            self.name_edit.setText("")
            self.id_label.setText("")
            self.status_label.setText("")
            self.progress.hide()
            self.updated_label.setText("")
            self._set_tags([])
            self.description_label.setText("")
            return
        self.type_label.setPixmap(type_pixmap(info["type"], 26))
        self.type_label.setToolTip(st.type_label(info["type"]))
        if not self.name_edit.hasFocus():
            self.name_edit.setText(info["name"])
            self.name_edit.setCursorPosition(0)
        # Name, tags and description change in any state, but not in a database we may only read.
        locked = st.why_not_editable(info["status"], "name")
        self.name_edit.setReadOnly(locked is not None)
        self.add_tag_button.setEnabled(locked is None)
        self.edit_description_button.setEnabled(locked is None)
        for chip in self.tag_chips:
            chip.remove_button.setEnabled(locked is None)
        self.name_edit.setToolTip(f"{info['name']}\n{locked or 'Click to rename'}")
        self.id_label.setText(f"ID {info['id'][:8]}…")
        self.id_label.setToolTip(info["id"])
        colour = STATUS_COLOURS.get(info["status"], themed("$text_muted"))
        self.status_label.setText(info["status_label"] + ("  ·  Archived" if info["archived"] else ""))
        self.status_label.setStyleSheet(themed(f"QLabel {{ color: $surface; background: {colour}; border-radius: 4px; "
                                        "padding: 1px 8px; font-weight: bold; }"))
        show_progress = info["status"] in st.PROGRESS_STATUSES and info["progress"] is not None
        self.progress.setVisible(show_progress)
        if show_progress:
            self.progress.setValue(int(info["progress"]))
        parts = [f"Updated {data.format_ago(info['last_update'])}"]
        if info["user"]:
            parts.append(info["user"])
        if info["last_iteration"] is not None:
            parts.append(f"{info['last_iteration']:,} iterations")
        self.updated_label.setText("  ·  ".join(parts))
        self.updated_label.setToolTip(self.updated_label.text())
        self._set_tags(info["tags"])
        if self.description_editor.isHidden():
            text = info["description"]
            self.description_label.setText(text or "Add a description")
            self.description_label.setStyleSheet(themed("color: $text_secondary;") if text else themed("color: $text_disabled; font-style: italic;"))

    def _set_tags(self, tags: list[tuple[str, str | None, str | None]]) -> None:
        if [c.name for c in self.tag_chips] == [t[0] for t in tags]:
            return
        for chip in self.tag_chips:
            self.tags_layout.removeWidget(chip)
            chip.deleteLater()
        self.tag_chips = []
        items = [self.tags_layout.takeAt(0) for _ in range(self.tags_layout.count())]
        for name, background, foreground in tags:
            chip = TagChip(name, background, foreground)
            chip.sig_remove_requested.connect(self.remove_tag)
            chip.remove_button.setEnabled(self.add_tag_button.isEnabled())
            self.tags_layout.addWidget(chip)
            self.tag_chips.append(chip)
        for item in items:
            self.tags_layout.addItem(item)
        self.tags_layout.invalidate()

    def tag_names(self) -> list[str]:
        return [c.name for c in self.tag_chips]

    # -- Name -----------------------------------------------------------------------------
    def commit_name(self) -> None:
        if not self.experiment_id:
            return
        name = self.name_edit.text().strip()
        if name == self.info.get("name"):
            return
        try:
            actions.rename([self.experiment_id], name)
        except actions.ActionError as exc:
            self.sig_message_posted.emit(f"Not renamed: {exc}")
            self.name_edit.setText(self.info.get("name", ""))
            return
        self.info["name"] = name
        self.sig_message_posted.emit("Renamed")
        self.sig_experiment_edited.emit()

    def copy_id(self) -> None:
        if self.experiment_id:
            QApplication.clipboard().setText(self.experiment_id)
            self.sig_message_posted.emit("ID copied")

    # -- Action menu ------------------------------------------------------------------------
    def set_action_menu_factory(self, factory: ActionMenuFactory | None) -> None:
        self._menu_factory = factory
        self.menu_button.setVisible(factory is not None)

    def _open_menu(self) -> None:
        if self._menu_factory is None or not self.experiment_id:
            return
        menu = self._menu_factory([self.experiment_id])
        if menu is not None:
            menu.exec(self.menu_button.mapToGlobal(self.menu_button.rect().bottomLeft()))

    # -- Tags ---------------------------------------------------------------------------------
    def _start_tag(self) -> None:
        completer = QCompleter(data.all_tag_names(), self.tag_edit)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.tag_edit.setCompleter(completer)
        self.add_tag_button.hide()
        self.tag_edit.show()
        self.tag_edit.setFocus()

    def _commit_tag(self) -> None:
        name = self.tag_edit.text().strip()
        self.tag_edit.clear()
        if name:
            self.add_tag(name)

    def _end_tag(self) -> None:
        if not self.tag_edit.text().strip():
            self.tag_edit.hide()
            self.add_tag_button.show()

    def add_tag(self, name: str) -> None:
        if not self.experiment_id:
            return
        try:
            actions.add_tags([self.experiment_id], [name])
        except actions.ActionError as exc:
            self.sig_message_posted.emit(f"Tag not added: {exc}")
            return
        self.sig_experiment_edited.emit()

    def remove_tag(self, name: str) -> None:
        if not self.experiment_id:
            return
        actions.remove_tags([self.experiment_id], [name])
        self.sig_experiment_edited.emit()

    # -- Description -------------------------------------------------------------------------
    def begin_description(self) -> None:
        self.description_edit.setPlainText(self.info.get("description", ""))
        self.description_label.hide()
        self.edit_description_button.hide()
        self.description_editor.show()
        self.description_edit.setFocus()

    def is_editing_description(self) -> bool:
        return not self.description_editor.isHidden()

    def save_description(self) -> None:
        text = self.description_edit.toPlainText()
        if self.experiment_id:
            actions.set_description([self.experiment_id], text)
            self.info["description"] = text
        self._close_description()
        self.sig_experiment_edited.emit()

    def cancel_description(self) -> None:
        self._close_description()

    def _close_description(self) -> None:
        self.description_editor.hide()
        self.description_label.show()
        self.edit_description_button.show()
        text = self.info.get("description", "")
        self.description_label.setText(text or "Add a description")
        self.description_label.setStyleSheet(themed("color: $text_secondary;") if text else themed("color: $text_disabled; font-style: italic;"))
