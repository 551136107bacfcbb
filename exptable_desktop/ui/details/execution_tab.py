"""EXECUTION: source, uncommitted changes, Python packages, container, output."""
from __future__ import annotations

from PySide6.QtGui import QColor, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import details as data
from exptable_desktop.core import editing
from exptable_desktop.core import states as st
from exptable_desktop.core.actions import ActionError
from exptable_desktop.ui.details.common import DetailsTab, EditableSection, monospace_font
from exptable_desktop.ui import palette
from exptable_desktop.ui.palette import themed

READ_ONLY_STYLE = "QLineEdit[readOnly=\"true\"] { border: none; background: transparent; }"


class DiffHighlighter(QSyntaxHighlighter):
    """git-diff colours: additions green, removals red, hunks blue, file headers bold."""

    def __init__(self, document):
        super().__init__(document)
        self.formats = {}
        chrome = palette.current()
        for key, colour, background, bold in (("+", chrome.success, chrome.success_soft, False),
                                              ("-", chrome.danger, chrome.danger_soft, False),
                                              ("@", chrome.info, chrome.info_soft, False), ("h", chrome.text, None, True)):
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(colour))
            if background:
                fmt.setBackground(QColor(background))
            if bold:
                fmt.setFontWeight(700)
            self.formats[key] = fmt

    def highlightBlock(self, text: str) -> None:  # noqa: N802
        if text.startswith(("diff --git", "index ", "+++", "---")):
            self.setFormat(0, len(text), self.formats["h"])
        elif text.startswith("+"):
            self.setFormat(0, len(text), self.formats["+"])
        elif text.startswith("-"):
            self.setFormat(0, len(text), self.formats["-"])
        elif text.startswith("@@"):
            self.setFormat(0, len(text), self.formats["@"])


def _text_box(min_height: int = 120) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setReadOnly(True)
    box.setFont(monospace_font())
    box.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    box.setMinimumHeight(min_height)
    return box


class ExecutionTab(DetailsTab):
    """The details panel's EXECUTION tab: source, uncommitted changes, packages, container and output, each
    section editable while the experiment is a Draft."""

    title = "EXECUTION"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("executionTab")
        self._values: dict = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        outer.addWidget(scroll)
        body = QWidget()
        body.setStyleSheet(READ_ONLY_STYLE)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(12, 4, 12, 12)
        scroll.setWidget(body)

        self.line_edits: dict[str, QLineEdit] = {}
        self.text_edits: dict[str, QPlainTextEdit] = {}
        self.sections: dict[str, EditableSection] = {}

        source = QWidget()
        form = QFormLayout(source)
        for name in data.EXECUTION_SECTIONS["source"]:
            form.addRow(data.EXECUTION_LABELS[name], self._line(name))
        self._add_section(layout, "source", "SOURCE CODE", source)

        diff = _text_box(160)
        self.diff_highlighter = DiffHighlighter(diff.document())
        self.text_edits["diff"] = diff
        self._add_section(layout, "diff", "UNCOMMITTED CHANGES", diff)

        packages = QWidget()
        packages_layout = QVBoxLayout(packages)
        packages_layout.setContentsMargins(0, 0, 0, 0)
        self.packages_message = QLabel()
        self.packages_message.setStyleSheet(themed("color: $text_muted; font-style: italic;"))
        packages_layout.addWidget(self.packages_message)
        self.text_edits["requirements"] = _text_box(140)
        packages_layout.addWidget(self.text_edits["requirements"])
        self._add_section(layout, "packages", "PYTHON PACKAGES", packages)

        container = QWidget()
        form = QFormLayout(container)
        form.addRow("IMAGE", self._line("container_image"))
        form.addRow("ARGUMENTS", self._line("container_args"))
        self.text_edits["container_setup"] = _text_box(70)
        form.addRow("SETUP SHELL SCRIPT", self.text_edits["container_setup"])
        self._add_section(layout, "container", "CONTAINER", container)

        output = QWidget()
        form = QFormLayout(output)
        form.addRow("DESTINATION", self._line("output_uri"))
        self._add_section(layout, "output", "OUTPUT", output)
        layout.addStretch(1)

    def _line(self, name: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(f"exec_{name}")
        edit.setReadOnly(True)
        self.line_edits[name] = edit
        return edit

    def _add_section(self, layout, key: str, title: str, body: QWidget) -> None:
        section = EditableSection(title, body, on_edit=lambda: self._set_writable(key, True),
                                  on_save=lambda: self._save(key), on_cancel=lambda: self._cancel(key))
        section.setObjectName(f"execution_{key}")
        self.sections[key] = section
        layout.addWidget(section)

    def _set_writable(self, key: str, writable: bool) -> None:
        for name in data.EXECUTION_SECTIONS[key]:
            widget = self.line_edits.get(name) or self.text_edits.get(name)
            widget.setReadOnly(not writable)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        if key == "packages" and writable:
            self.packages_message.hide()
            self.text_edits["requirements"].show()

    def _save(self, key: str) -> str | None:
        fields = {}
        for name in data.EXECUTION_SECTIONS[key]:
            if name in self.line_edits:
                fields[name] = self.line_edits[name].text().strip()
            else:
                fields[name] = self.text_edits[name].toPlainText()
        try:
            editing.require(editing.update_execution([self.experiment_id], **fields))
        except (editing.ReadOnlyError, ActionError, ValueError) as exc:
            return str(exc)
        self._values.update(fields)
        self._set_writable(key, False)
        self._show_section(key)
        self.sig_experiment_edited.emit()
        return None

    def _cancel(self, key: str) -> None:
        self._set_writable(key, False)
        self._show_section(key)
        # The state may have moved while the section was open.
        self.sections[key].set_editable(self._reason())

    def _reason(self) -> str | None:
        status = data.status_of(self.experiment_id) if self.experiment_id else None
        return st.why_not_editable(status, "execution") if status else "No experiment"

    def is_editing(self) -> bool:
        return any(s.editing for s in self.sections.values())

    def refresh(self) -> None:
        # Sections are independent: the ones not being edited follow the experiment.
        if self.experiment_id is not None:
            self.load(self.experiment_id)

    def load(self, experiment_id: str | None) -> None:
        if experiment_id != self.experiment_id:
            for section in self.sections.values():
                section.cancel()
        self.experiment_id = experiment_id
        self._values = data.execution(experiment_id) if experiment_id else {}
        reason = self._reason()
        for key, section in self.sections.items():
            if section.editing:
                continue
            section.set_editable(reason)
            self._show_section(key)

    def _show_section(self, key: str) -> None:
        for name in data.EXECUTION_SECTIONS[key]:
            value = self._values.get(name)
            if name in self.line_edits:
                self.line_edits[name].setText(value or "")
                self.line_edits[name].setCursorPosition(0)
            elif name == "requirements":
                text, message = data.packages_text(value)
                self.text_edits[name].setPlainText(text)
                self.text_edits[name].setVisible(message is None)
                self.packages_message.setText(message or "")
                self.packages_message.setVisible(message is not None)
            else:
                self.text_edits[name].setPlainText(value or "")
        if key == "diff":
            box = self.text_edits["diff"]
            box.setPlaceholderText("No uncommitted changes")
