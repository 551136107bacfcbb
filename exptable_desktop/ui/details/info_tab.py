"""INFO: every field of feature inventory 3.5, then the runtime properties."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from exptable_desktop.core import details as data
from exptable_desktop.ui.details.common import DetailsTab, section_title
from exptable_desktop.ui.palette import themed


class InfoTab(DetailsTab):
    """The details panel's INFO tab, read-only: the description, the task details (feature inventory 3.5) with the
    parent as a link, and the runtime properties."""

    title = "INFO"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("infoTab")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        outer.addWidget(scroll)
        page = QWidget()
        scroll.setWidget(page)
        self.page_layout = QVBoxLayout(page)
        self.page_layout.setContentsMargins(12, 8, 12, 12)
        self.page_layout.addWidget(section_title("DESCRIPTION"))
        self.description_label = QLabel()
        self.description_label.setObjectName("infoDescription")
        self.description_label.setWordWrap(True)
        self.description_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.page_layout.addWidget(self.description_label)
        self.page_layout.addSpacing(8)
        self.page_layout.addWidget(section_title("TASK DETAILS"))
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
        self.form.setHorizontalSpacing(24)
        self.page_layout.addLayout(self.form)
        self.runtime_title = section_title("RUNTIME")
        self.page_layout.addSpacing(8)
        self.page_layout.addWidget(self.runtime_title)
        self.runtime_form = QFormLayout()
        self.runtime_form.setHorizontalSpacing(24)
        self.page_layout.addLayout(self.runtime_form)
        self.page_layout.addStretch(1)
        self.values: dict[str, QLabel] = {}

    def load(self, experiment_id: str | None) -> None:
        self.experiment_id = experiment_id
        content = data.info(experiment_id) if experiment_id else None
        for form in (self.form, self.runtime_form):
            while form.rowCount():
                form.removeRow(0)
        self.values.clear()
        if content is None:
            self.description_label.setText("")
            self.runtime_title.hide()
            return
        description = content["description"]
        self.description_label.setText(description or "No description")
        self.description_label.setStyleSheet("" if description else themed("color: $text_muted; font-style: italic;"))
        for label, text, link in content["fields"]:
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            if link:
                value.setText(f'<a href="{html.escape(link)}">{html.escape(text)}</a>')
                value.linkActivated.connect(self.sig_experiment_link_activated.emit)
                value.setToolTip("Show the parent experiment")
            else:
                value.setTextFormat(Qt.TextFormat.PlainText)
                value.setText(text)
            value.setObjectName("info_" + label.lower().replace(" ", "_"))
            self.values[label] = value
            self.form.addRow(self._key(label), value)
        for key, text in content["runtime"]:
            value = QLabel(text)
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            self.runtime_form.addRow(self._key(key.upper()), value)
        self.runtime_title.setVisible(bool(content["runtime"]))

    @staticmethod
    def _key(text: str) -> QLabel:
        label = QLabel(text)
        label.setStyleSheet(themed("color: $text_secondary;"))
        return label

    def value_text(self, label: str) -> str:
        return self.values[label].text() if label in self.values else ""
