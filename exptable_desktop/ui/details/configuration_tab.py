"""CONFIGURATION: user properties, hyperparameters by section, configuration objects."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
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
from exptable_desktop.core import editing
from exptable_desktop.core import states as st
from exptable_desktop.core.actions import ActionError
from exptable_desktop.ui.details.common import (
    DetailsTab,
    EditableSection,
    empty_state,
    fit_nav_width,
    monospace_font,
)
from exptable_desktop.ui.palette import themed

GROUP_PROPERTIES = "USER PROPERTIES"
GROUP_HYPERPARAMETERS = "HYPERPARAMETERS"
GROUP_OBJECTS = "CONFIGURATION OBJECTS"
ROLE_KEY = Qt.ItemDataRole.UserRole
MATCH_BRUSH = QBrush(QColor(themed("$match")))


class ParamsPage(QWidget):
    """Name/value rows of one section, with search and EDIT -> SAVE / CANCEL."""

    def __init__(self, tab: "ConfigurationTab"):
        super().__init__()
        self.tab = tab
        self.section = ""
        self.params: list[data.Param] = []
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        search_row = QHBoxLayout()
        self.search_box = QLineEdit()
        self.search_box.setObjectName("paramSearch")
        self.search_box.setPlaceholderText("Search")
        self.search_box.setClearButtonEnabled(True)
        self.prev_button = QPushButton("↑")
        self.next_button = QPushButton("↓")
        self.prev_button.setToolTip("Previous match")
        self.next_button.setToolTip("Next match")
        for button in (self.prev_button, self.next_button):
            button.setFixedWidth(30)
        self.match_label = QLabel()
        self.match_label.setStyleSheet(themed("color: $text_muted;"))
        search_row.addWidget(self.search_box, 1)
        search_row.addWidget(self.match_label)
        search_row.addWidget(self.prev_button)
        search_row.addWidget(self.next_button)
        layout.addLayout(search_row)
        self.table = QTableWidget(0, 2)
        self.table.setObjectName("paramTable")
        self.table.setHorizontalHeaderLabels(["Name", "Value"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 220)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        layout.addWidget(self.table, 1)
        edit_row = QHBoxLayout()
        self.add_button = QPushButton("+ Add")
        self.add_button.setObjectName("paramAdd")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("paramDelete")
        edit_row.addWidget(self.add_button)
        edit_row.addWidget(self.delete_button)
        edit_row.addStretch(1)
        layout.addLayout(edit_row)
        self.section_box = EditableSection("PARAMETERS", body, on_edit=self._edit, on_save=self._save,
                                           on_cancel=tab.after_edit, after_save=tab.after_save)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 0, 8, 8)
        outer.addWidget(self.section_box)
        self._matches: list[int] = []
        self._match_index = -1
        self.search_box.textChanged.connect(self._search)
        self.next_button.clicked.connect(lambda: self._step(1))
        self.prev_button.clicked.connect(lambda: self._step(-1))
        self.add_button.clicked.connect(self.add_row)
        self.delete_button.clicked.connect(self.delete_selected)
        self._set_edit_buttons(False)

    def _set_edit_buttons(self, visible: bool) -> None:
        self.add_button.setVisible(visible)
        self.delete_button.setVisible(visible)

    def show_section(self, title: str, section: str, params: list[data.Param], reason: str | None) -> None:
        self.section = section
        self.params = params
        self.section_box.title_label.setText(title)
        self.section_box.set_editable(reason)
        self._show()

    def _show(self) -> None:
        self._set_edit_buttons(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setRowCount(len(self.params))
        for row, param in enumerate(self.params):
            name = QTableWidgetItem(param.name)
            value = QTableWidgetItem(param.value)
            tip = param.tooltip()
            name.setToolTip(tip or param.name)
            value.setToolTip(tip or param.value)
            name.setData(ROLE_KEY, param.name)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, value)
        self._search()

    def _edit(self) -> None:
        self._set_edit_buttons(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)

    def add_row(self) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(""))
        self.table.setItem(row, 1, QTableWidgetItem(""))
        self.table.setCurrentCell(row, 0)
        return row

    def delete_selected(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)

    def rows(self) -> list[tuple[str, str]]:
        out = []
        for row in range(self.table.rowCount()):
            name = self.table.item(row, 0)
            value = self.table.item(row, 1)
            out.append(((name.text() if name else "").strip(), value.text() if value else ""))
        return out

    def _save(self) -> str | None:
        rows = self.rows()
        names = [n for n, _ in rows]
        if any(not n for n in names):
            return "Every row needs a name"
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            return f"Duplicate name: {', '.join(duplicates)}"
        old = {p.name: p.value for p in self.params}
        new = dict(rows)
        removed = [n for n in old if n not in new]
        changed = {n: v for n, v in new.items() if old.get(n) != v}
        try:
            data.save_parameter_section(self.tab.experiment_id, self.section, changed, removed)
        except (editing.ReadOnlyError, ActionError, ValueError) as exc:
            return str(exc)
        return None

    def _search(self) -> None:
        needle = self.search_box.text().strip().lower()
        self._matches = []
        for row in range(self.table.rowCount()):
            hit = bool(needle) and any(needle in (self.table.item(row, c).text().lower()
                                                  if self.table.item(row, c) else "") for c in (0, 1))
            for column in (0, 1):
                item = self.table.item(row, column)
                if item is not None:
                    item.setBackground(MATCH_BRUSH if hit else QBrush())
            if hit:
                self._matches.append(row)
        self._match_index = -1
        self.match_label.setText(f"{len(self._matches)} found" if needle else "")
        if self._matches:
            self._step(1)

    def _step(self, direction: int) -> None:
        if not self._matches:
            return
        self._match_index = (self._match_index + direction) % len(self._matches)
        row = self._matches[self._match_index]
        self.table.selectRow(row)
        self.table.scrollToItem(self.table.item(row, 0))
        self.match_label.setText(f"{self._match_index + 1} of {len(self._matches)}")


class ObjectPage(QWidget):
    """One configuration object's text, EDIT -> SAVE / CANCEL in Draft."""

    def __init__(self, tab: "ConfigurationTab"):
        super().__init__()
        self.tab = tab
        self.name = ""
        self.value = ""
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        self.description_label = QLabel()
        self.description_label.setStyleSheet(themed("color: $text_muted;"))
        self.description_label.setWordWrap(True)
        layout.addWidget(self.description_label)
        self.text = QPlainTextEdit()
        self.text.setObjectName("configObjectText")
        self.text.setReadOnly(True)
        self.text.setFont(monospace_font())
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.text, 1)
        self.section_box = EditableSection("CONFIGURATION OBJECT", body, on_edit=lambda: self.text.setReadOnly(False),
                                           on_save=self._save, on_cancel=tab.after_edit,
                                           after_save=tab.after_save)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 0, 8, 8)
        outer.addWidget(self.section_box)

    def show_object(self, name: str, entry: dict, reason: str | None) -> None:
        self.name = name
        self.value = entry["value"]
        self.section_box.title_label.setText(name.upper())
        description = entry.get("description") or ""
        kind = entry.get("content_type") or ""
        self.description_label.setText(" · ".join(t for t in (kind.upper(), description) if t))
        self.description_label.setVisible(bool(description or kind))
        self.section_box.set_editable(reason)
        self._show()

    def _show(self) -> None:
        self.text.setReadOnly(True)
        self.text.setPlainText(self.value)

    def _save(self) -> str | None:
        try:
            editing.require(editing.set_configuration([self.tab.experiment_id], self.name, self.text.toPlainText()))
        except (editing.ReadOnlyError, ActionError, ValueError) as exc:
            return str(exc)
        self.text.setReadOnly(True)
        return None


class ConfigurationTab(DetailsTab):
    """The details panel's CONFIGURATION tab: a tree of user properties, hyperparameter sections and configuration
    objects, each shown (and, where the status allows, edited) on its page."""

    title = "CONFIGURATION"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("configurationTab")
        self.config: dict = {"properties": [], "sections": {}, "objects": {}}
        self.status: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        splitter = QSplitter()
        layout.addWidget(splitter)
        self.nav = QTreeWidget()
        self.nav.setObjectName("configurationNav")
        self.nav.setHeaderHidden(True)
        splitter.addWidget(self.nav)
        self.pages = QStackedWidget()
        self.params_page = ParamsPage(self)
        self.object_page = ObjectPage(self)
        self.empty_label = empty_state("No configuration",
                                       "Parameters and configuration objects a script connects appear here:",
                                       'task.connect({"lr": 0.01, "batch_size": 32})')
        for page in (self.params_page, self.object_page, self.empty_label):
            self.pages.addWidget(page)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        fit_nav_width(splitter, self.nav, [GROUP_PROPERTIES, GROUP_HYPERPARAMETERS, GROUP_OBJECTS])
        self.nav.currentItemChanged.connect(self._nav_changed)

    def is_editing(self) -> bool:
        return self.params_page.section_box.editing or self.object_page.section_box.editing

    def load(self, experiment_id: str | None) -> None:
        if self.is_editing() and experiment_id == self.experiment_id:
            return
        self.params_page.section_box.cancel()
        self.object_page.section_box.cancel()
        previous = self.nav.currentItem().data(0, ROLE_KEY) if self.nav.currentItem() else None
        self.experiment_id = experiment_id
        self.config = data.configuration(experiment_id) if experiment_id else {
            "properties": [], "sections": {}, "objects": {}}
        self.status = data.status_of(experiment_id) if experiment_id else None
        self.nav.blockSignals(True)
        self.nav.clear()
        first = None
        wanted = None
        groups = [(GROUP_PROPERTIES, [("Properties", ("params", data.PROPERTIES))]),
                  (GROUP_HYPERPARAMETERS, [(data.section_label(s), ("params", s)) for s in self.config["sections"]]),
                  (GROUP_OBJECTS, [(n, ("object", n)) for n in self.config["objects"]])]
        for title, entries in groups:
            group = QTreeWidgetItem(self.nav, [title])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            for label, key in entries:
                item = QTreeWidgetItem(group, [label])
                item.setData(0, ROLE_KEY, key)
                first = first or item
                if key == previous:
                    wanted = item
            group.setExpanded(True)
        self.nav.blockSignals(False)
        target = wanted or first
        if target is not None:
            self.nav.setCurrentItem(target)
            self._nav_changed(target)
        else:
            self.pages.setCurrentWidget(self.empty_label)

    def _nav_changed(self, item, _previous=None) -> None:
        if item is None or item.data(0, ROLE_KEY) is None:
            return
        if self.is_editing():
            return
        kind, name = item.data(0, ROLE_KEY)
        if kind == "params":
            what = "properties" if name == data.PROPERTIES else "hyperparams"
            reason = st.why_not_editable(self.status, what) if self.status else "No experiment"
            params = self.config["properties"] if name == data.PROPERTIES else self.config["sections"].get(name, [])
            title = "USER PROPERTIES" if name == data.PROPERTIES else data.section_label(name).upper()
            self.params_page.show_section(title, name, params, reason)
            self.pages.setCurrentWidget(self.params_page)
        else:
            reason = st.why_not_editable(self.status, "configuration") if self.status else "No experiment"
            self.object_page.show_object(name, self.config["objects"][name], reason)
            self.pages.setCurrentWidget(self.object_page)

    def select(self, kind: str, name: str) -> bool:
        """Show a section: ("params", section) or ("object", name)."""
        for i in range(self.nav.topLevelItemCount()):
            group = self.nav.topLevelItem(i)
            for j in range(group.childCount()):
                child = group.child(j)
                if child.data(0, ROLE_KEY) == (kind, name):
                    self.nav.setCurrentItem(child)
                    return True
        return False

    def after_save(self) -> None:
        self.load(self.experiment_id)
        self.sig_experiment_edited.emit()

    def after_edit(self) -> None:
        # Cancelled: show the stored values, including changes a poll skipped meanwhile.
        self.load(self.experiment_id)
