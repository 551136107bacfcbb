"""ARTIFACTS: input and output models and other artifacts, with path, size,
hash, metadata and preview; open the file or its folder, copy the path."""
from __future__ import annotations

import os

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import details as data
from exptable_desktop.ui.details.common import DetailsTab, empty_state, fit_nav_width, monospace_font, section_title

ROLE_ENTRY = Qt.ItemDataRole.UserRole
NAV_GROUPS = ["INPUT MODELS", "OUTPUT MODELS", "OTHER"]
METADATA_ROWS_SHOWN = 8
PREVIEW_LINES = (3, 30)  # the preview grows with its text between these, then scrolls


def _value_label() -> QLabel:
    label = QLabel()
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


def model_summary(entry: dict) -> str:
    """One line of what the SDK keeps on a model (sdk/model.py): framework, iteration, tags, labels."""
    meta = entry.get("metadata") or {}
    parts = []
    if meta.get("_framework"):
        parts.append(f"Framework: {meta['_framework']}")
    if meta.get("_iteration") is not None:
        parts.append(f"Iteration: {meta['_iteration']}")
    if meta.get("_package"):
        parts.append("Package (zip)")
    if meta.get("_published"):
        parts.append("Published")
    if meta.get("_tags"):
        parts.append("Tags: " + ", ".join(map(str, meta["_tags"])))
    if meta.get("_labels"):
        parts.append("Labels: " + ", ".join(f"{k}={v}" for k, v in dict(meta["_labels"]).items()))
    if meta.get("_model_id"):
        parts.append(f"Model id: {meta['_model_id']}")
    return "  ·  ".join(parts)


class ArtifactsTab(DetailsTab):
    """The details panel's ARTIFACTS tab: models and other artifacts grouped in a tree, the selected one's path,
    size, hash, metadata and preview, and open / copy actions."""

    title = "ARTIFACTS"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("artifactsTab")
        self.groups: dict[str, list[dict]] = {}
        self.current: dict | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack)
        splitter = QSplitter()
        self.nav = QTreeWidget()
        self.nav.setObjectName("artifactsNav")
        self.nav.setHeaderHidden(True)
        splitter.addWidget(self.nav)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        page = QWidget()
        scroll.setWidget(page)
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(12, 8, 12, 12)
        self.name_label = QLabel()
        font = self.name_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.name_label.setFont(font)
        page_layout.addWidget(self.name_label)
        self.model_label = _value_label()
        self.model_label.setObjectName("artifactModelInfo")
        page_layout.addWidget(self.model_label)
        form = QFormLayout()
        self.path_label = _value_label()
        self.path_label.setObjectName("artifactPath")
        self.size_label = _value_label()
        self.hash_label = _value_label()
        self.type_label = _value_label()
        self.created_label = _value_label()
        form.addRow("FILE PATH", self.path_label)
        form.addRow("FILE SIZE", self.size_label)
        form.addRow("HASH", self.hash_label)
        form.addRow("CONTENT TYPE", self.type_label)
        form.addRow("CREATED", self.created_label)
        page_layout.addLayout(form)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("Open file")
        self.open_button.setObjectName("artifactOpen")
        self.folder_button = QPushButton("Open folder")
        self.folder_button.setObjectName("artifactOpenFolder")
        self.copy_button = QPushButton("Copy path")
        self.copy_button.setObjectName("artifactCopyPath")
        for button in (self.open_button, self.folder_button, self.copy_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        page_layout.addLayout(buttons)
        self.metadata_title = section_title("METADATA")
        page_layout.addWidget(self.metadata_title)
        self.metadata_table = QTableWidget(0, 2)
        self.metadata_table.setObjectName("artifactMetadata")
        self.metadata_table.setHorizontalHeaderLabels(["Key", "Value"])
        self.metadata_table.horizontalHeader().setStretchLastSection(True)
        self.metadata_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.metadata_table.verticalHeader().hide()
        page_layout.addWidget(self.metadata_table)
        self.preview_title = section_title("PREVIEW")
        page_layout.addWidget(self.preview_title)
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("artifactPreview")
        self.preview.setReadOnly(True)
        self.preview.setFont(monospace_font())
        page_layout.addWidget(self.preview)
        # The sections sit at the top at their own heights; what is left stays below them.
        page_layout.addStretch(1)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        fit_nav_width(splitter, self.nav, NAV_GROUPS)
        self.stack.addWidget(splitter)
        self.empty_label = empty_state("No artifacts", "Files, objects and models the experiment uploads appear here:",
                                       'task.upload_artifact("predictions", artifact_object=results)')
        self.stack.addWidget(self.empty_label)
        self.nav.currentItemChanged.connect(self._selected)
        self.open_button.clicked.connect(self.open_file)
        self.folder_button.clicked.connect(self.open_folder)
        self.copy_button.clicked.connect(self.copy_path)

    def load(self, experiment_id: str | None) -> None:
        previous = self.current["name"] if self.current else None
        self.experiment_id = experiment_id
        self.groups = data.artifacts(experiment_id) if experiment_id else {}
        self.nav.blockSignals(True)
        self.nav.clear()
        target = None
        for title, entries in self.groups.items():
            if not entries:
                continue
            group = QTreeWidgetItem(self.nav, [title])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            for entry in entries:
                item = QTreeWidgetItem(group, [entry["name"]])
                item.setData(0, ROLE_ENTRY, entry)
                if target is None or entry["name"] == previous:
                    target = item
            group.setExpanded(True)
        self.nav.blockSignals(False)
        names = [e["name"] for entries in self.groups.values() for e in entries]
        fit_nav_width(self.splitter, self.nav, NAV_GROUPS, names)
        if target is None:
            self.current = None
            self.stack.setCurrentWidget(self.empty_label)
            return
        self.stack.setCurrentIndex(0)
        self.nav.setCurrentItem(target)
        self._selected(target)

    def _selected(self, item, _previous=None) -> None:
        entry = item.data(0, ROLE_ENTRY) if item is not None else None
        if entry is None:
            return
        self.current = entry
        self.name_label.setText(entry["name"])
        self.path_label.setText(entry["uri"] or data.NOT_AVAILABLE)
        self.size_label.setText(data.format_size(entry["size"]))
        self.hash_label.setText(entry["hash"] or data.NOT_AVAILABLE)
        self.type_label.setText(entry["content_type"] or data.NOT_AVAILABLE)
        self.created_label.setText(data.format_datetime(entry["created"]))
        local = entry["local_path"]
        self.open_button.setEnabled(bool(local) and os.path.exists(local))
        self.folder_button.setEnabled(bool(local) and os.path.exists(os.path.dirname(local) or "."))
        self.copy_button.setEnabled(bool(entry["uri"]))
        # Keys starting with "_" are the writer's bookkeeping, as in the runtime properties.
        metadata = {k: v for k, v in (entry["metadata"] or {}).items() if not str(k).startswith("_")}
        self.metadata_table.setRowCount(len(metadata))
        for row, (key, value) in enumerate(sorted(metadata.items())):
            self.metadata_table.setItem(row, 0, QTableWidgetItem(str(key)))
            self.metadata_table.setItem(row, 1, QTableWidgetItem(str(value)))
        self.metadata_title.setVisible(bool(metadata))
        self.metadata_table.setVisible(bool(metadata))
        table = self.metadata_table
        shown = min(len(metadata), METADATA_ROWS_SHOWN)
        table.setFixedHeight(table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()
                             + sum(table.rowHeight(r) for r in range(shown)) + 2)
        model_info = model_summary(entry) if entry["kind"] == "model" else ""
        self.model_label.setText(model_info)
        self.model_label.setVisible(bool(model_info))
        self.preview_title.setText("DESIGN" if entry["kind"] == "model" else "PREVIEW")
        self.preview.setPlainText(entry["preview"] or "")
        lines = min(max((entry["preview"] or "").count("\n") + 1, PREVIEW_LINES[0]), PREVIEW_LINES[1])
        self.preview.setFixedHeight((lines + 1) * self.preview.fontMetrics().lineSpacing()
                                    + 2 * self.preview.frameWidth() + 2 * int(self.preview.document().documentMargin()))
        self.preview_title.setVisible(bool(entry["preview"]))
        self.preview.setVisible(bool(entry["preview"]))

    def select(self, name: str) -> bool:
        for i in range(self.nav.topLevelItemCount()):
            group = self.nav.topLevelItem(i)
            for j in range(group.childCount()):
                if group.child(j).data(0, ROLE_ENTRY)["name"] == name:
                    self.nav.setCurrentItem(group.child(j))
                    return True
        return False

    def open_file(self) -> None:
        if self.current and self.current["local_path"]:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.current["local_path"]))

    def open_folder(self) -> None:
        if self.current and self.current["local_path"]:
            path = self.current["local_path"]
            folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
            QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

    def copy_path(self) -> None:
        if self.current:
            QApplication.clipboard().setText(self.current["local_path"] or self.current["uri"])
            self.sig_message_posted.emit("Path copied")
