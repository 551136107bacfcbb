"""Custom actions in the window: a "Custom actions" submenu of the experiment menu and buttons in the
batch bar (with counts, as the built-in actions have), a settings dialog to define them, and an
output panel with what each run printed or answered and how it ended.

Runs happen on a worker thread; a failure is one line in the status bar ("More info" and the panel
hold the rest). See core.custom_actions for what an action is and how it runs.
"""
from __future__ import annotations

import shlex
from typing import Sequence

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import custom_actions as ca
from exptable_desktop.core import states as st
from exptable_desktop.core.database import url_for_display
from exptable_desktop.ui.palette import themed

BAR_PREFIX = "bar_custom_"


# ---- The settings dialog ----------------------------------------------------------------------------------

class _Checklist(QListWidget):
    def __init__(self, options: Sequence[tuple[str, str]]):
        super().__init__()
        self.setMaximumHeight(130)
        for value, label in options:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.addItem(item)

    def chosen(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())
                if self.item(i).checkState() == Qt.CheckState.Checked]

    def choose(self, values: Sequence[str]) -> None:
        for i in range(self.count()):
            item = self.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in values
                               else Qt.CheckState.Unchecked)


class CustomActionsDialog(QDialog):
    """Add, edit and remove custom actions; Save writes them to the person's config folder."""

    def __init__(self, actions: Sequence[ca.CustomAction], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("customActionsDialog")
        self.setWindowTitle("Custom actions")
        self.resize(820, 520)
        self.actions = [ca.CustomAction(**a.to_dict()) for a in actions]
        self._loading = False
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        self.list = QListWidget()
        self.list.setObjectName("customActionsList")
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("customActionAdd")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("customActionRemove")
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        left.addLayout(row)
        outer.addLayout(left, 1)

        right = QVBoxLayout()
        form = QFormLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("customActionName")
        form.addRow("Name", self.name_edit)
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("customActionKind")
        self.kind_combo.addItem("Run a command", "command")
        self.kind_combo.addItem("Send an HTTP request", "http")
        form.addRow("Does", self.kind_combo)
        self.stack = QStackedWidget()
        command_page = QWidget()
        command_form = QFormLayout(command_page)
        command_form.setContentsMargins(0, 0, 0, 0)
        self.command_edit = QLineEdit()
        self.command_edit.setObjectName("customActionCommand")
        self.command_edit.setPlaceholderText("my-tool --run {id} --name {name}")
        command_form.addRow("Command", self.command_edit)
        command_form.addRow("", QLabel("Arguments as in a shell, but no shell runs it: each placeholder stays "
                                       "one argument; {ids} alone is one argument per experiment."))
        http_page = QWidget()
        http_form = QFormLayout(http_page)
        http_form.setContentsMargins(0, 0, 0, 0)
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("customActionMethod")
        self.method_combo.addItems(list(ca.METHODS))
        http_form.addRow("Method", self.method_combo)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("customActionUrl")
        self.url_edit.setPlaceholderText("https://ci.example.com/hooks/retrain?run={id}")
        http_form.addRow("URL", self.url_edit)
        self.body_edit = QPlainTextEdit()
        self.body_edit.setObjectName("customActionBody")
        self.body_edit.setPlaceholderText('{"experiment": {id}, "name": {name}, "all": {ids}}')
        self.body_edit.setMaximumHeight(90)
        http_form.addRow("JSON body", self.body_edit)
        self.stack.addWidget(command_page)
        self.stack.addWidget(http_page)
        form.addRow(self.stack)
        self.statuses = _Checklist([(s, st.status_label(s)) for s in st.FILTER_STATUSES])
        self.statuses.setObjectName("customActionStatuses")
        form.addRow("For statuses\n(none: all)", self.statuses)
        self.types = _Checklist([(t, st.type_label(t)) for t in st.TASK_TYPES])
        self.types.setObjectName("customActionTypes")
        form.addRow("For types\n(none: all)", self.types)
        self.timeout_spin = QDoubleSpinBox()
        self.timeout_spin.setRange(1, 86400)
        self.timeout_spin.setSuffix(" s")
        form.addRow("Time limit", self.timeout_spin)
        right.addLayout(form)
        right.addWidget(QLabel("Placeholders: {id} {ids} {name} {project} {db}. With {id}, {name} or {project} "
                               "the action runs once per experiment, otherwise once for all."))
        self.error_label = QLabel()
        self.error_label.setObjectName("customActionError")
        self.error_label.setStyleSheet(themed("color: $danger;"))
        self.error_label.setWordWrap(True)
        right.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        right.addWidget(self.buttons)
        outer.addLayout(right, 2)

        self.add_button.clicked.connect(self.add_action)
        self.remove_button.clicked.connect(self.remove_action)
        self.list.currentRowChanged.connect(self._show)
        self.kind_combo.currentIndexChanged.connect(lambda i: self.stack.setCurrentIndex(i))
        for signal in (self.name_edit.textChanged, self.command_edit.textChanged, self.url_edit.textChanged,
                       self.body_edit.textChanged, self.kind_combo.currentIndexChanged,
                       self.method_combo.currentIndexChanged, self.statuses.itemChanged, self.types.itemChanged,
                       self.timeout_spin.valueChanged):
            signal.connect(self._store)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for action in self.actions:
            self.list.addItem(action.name)
        self._enable_form(bool(self.actions))
        if self.actions:
            self.list.setCurrentRow(0)

    def _enable_form(self, on: bool) -> None:
        for widget in (self.name_edit, self.kind_combo, self.stack, self.statuses, self.types, self.timeout_spin,
                       self.remove_button):
            widget.setEnabled(on)

    def _show(self, row: int) -> None:
        if not 0 <= row < len(self.actions):
            return
        action = self.actions[row]
        self._loading = True
        self.name_edit.setText(action.name)
        self.kind_combo.setCurrentIndex(ca.KINDS.index(action.kind))
        self.stack.setCurrentIndex(ca.KINDS.index(action.kind))
        self.command_edit.setText(shlex.join(action.command))
        self.method_combo.setCurrentText(action.method)
        self.url_edit.setText(action.url)
        self.body_edit.setPlainText(action.body)
        self.statuses.choose(action.statuses)
        self.types.choose(action.types)
        self.timeout_spin.setValue(action.timeout)
        self._loading = False
        self._check()

    def _store(self, *_args) -> None:
        row = self.list.currentRow()
        if self._loading or not 0 <= row < len(self.actions):
            return
        action = self.actions[row]
        action.name = self.name_edit.text()
        action.kind = self.kind_combo.currentData()
        try:
            action.command = shlex.split(self.command_edit.text())
            self._split_error = ""
        except ValueError as exc:
            self._split_error = f"the command cannot be split into arguments: {exc}"
        action.method = self.method_combo.currentText()
        action.url = self.url_edit.text()
        action.body = self.body_edit.toPlainText()
        action.statuses = self.statuses.chosen()
        action.types = self.types.chosen()
        action.timeout = self.timeout_spin.value()
        self.list.item(row).setText(action.name or "(no name)")
        self._check()

    def problem(self) -> str:
        """What stops Save, or ""."""
        if getattr(self, "_split_error", ""):
            return self._split_error
        try:
            for action in self.actions:
                ca.validate(ca.CustomAction(**action.to_dict()))
            names = [a.name.strip().lower() for a in self.actions]
            duplicate = next((a.name for a in self.actions if names.count(a.name.strip().lower()) > 1), None)
            if duplicate:
                return f'two actions are named "{duplicate}"'
        except ca.CustomActionError as exc:
            return str(exc)
        return ""

    def _check(self) -> None:
        problem = self.problem()
        self.error_label.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not problem)

    def add_action(self) -> None:
        name, n = "New action", 2
        while any(a.name == name for a in self.actions):
            name, n = f"New action {n}", n + 1
        self.actions.append(ca.CustomAction(name=name, command=["echo", "{id}"]))
        self.list.addItem(name)
        self._enable_form(True)
        self.list.setCurrentRow(len(self.actions) - 1)
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def remove_action(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.actions):
            del self.actions[row]
            self.list.takeItem(row)
            self._enable_form(bool(self.actions))
            self._check()

    def result_actions(self) -> list[ca.CustomAction]:
        return [ca.validate(ca.CustomAction(**a.to_dict())) for a in self.actions]


def edit_actions(parent, actions: Sequence[ca.CustomAction]) -> list[ca.CustomAction] | None:
    dialog = CustomActionsDialog(actions, parent)
    return dialog.result_actions() if dialog.exec() == QDialog.DialogCode.Accepted else None


# ---- Running and the output panel -------------------------------------------------------------------------

class ActionRunner(QThread):
    """Runs one custom action over the chosen rows on a worker thread, so the window stays responsive; emits
    ``sig_done`` with the ActionReport even when the run itself breaks."""

    sig_done = Signal(object)

    def __init__(self, action: ca.CustomAction, rows: list[dict], db: str, parent=None):
        super().__init__(parent)
        self.action, self.rows, self.db = action, rows, db
        self.report: ca.ActionReport | None = None

    def run(self) -> None:
        try:
            self.report = ca.run_action(self.action, self.rows, self.db)
        except Exception as exc:  # noqa: BLE001 (a bug here must still end the run with a message)
            self.report = ca.ActionReport(self.action.name, [ca.RunResult("", False, f"internal error: {exc}")])
        self.sig_done.emit(self.report)


class OutputPanel(QDockWidget):
    """The bottom dock collecting what each custom-action run printed, with its command, status and duration; it
    shows itself when a report arrives."""

    def __init__(self, window):
        super().__init__("Action output", window)
        self.setObjectName("customActionOutput")
        self.text = QPlainTextEdit()
        self.text.setObjectName("customActionOutputText")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setWidget(self.text)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self)

    def add_report(self, report: ca.ActionReport) -> None:
        lines = [f"▶ {report.action}: {report.summary()}"]
        for result in report.results:
            lines.append(f"$ {result.label}")
            if result.output:
                lines.append(result.output.rstrip("\n"))
            lines.append(f"[{result.status}{'' if result.ok else ' — failed'}, {result.seconds:.1f} s]")
        lines.append("")
        self.text.appendPlainText("\n".join(lines))
        self.show()
        self.raise_()


# ---- The window's part ------------------------------------------------------------------------------------

class CustomActionsSupport(QObject):
    """The window's custom actions: loads them from their file (again when it changes on disk), adds them to the
    experiment menu and the batch bar, and runs them on ActionRunner threads."""

    sig_finished = Signal(object)  # the ActionReport of a run that ended

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.actions: list[ca.CustomAction] = []
        self.load_error = ""
        self.runners: list[ActionRunner] = []
        self.panel: OutputPanel | None = None
        self.reload()

    def reload(self) -> None:
        self._stamp = self._file_stamp()
        try:
            self.actions = ca.load_actions()
            self.load_error = ""
        except ca.CustomActionError as exc:
            self.actions, self.load_error = [], str(exc)

    @staticmethod
    def _file_stamp():
        try:
            stat = ca.config_path().stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _reload_if_changed(self) -> bool:
        """Read the file again if it changed on disk (edited by hand, or by another window)."""
        if self._file_stamp() == self._stamp:
            return False
        self.reload()
        return True

    def _rows(self, ids: Sequence[str]) -> list[dict]:
        return list(self.window.rows_info(list(ids))) if ids else []

    # ---- the experiment menu and the batch bar -------------------------------------------------------------

    def extend_menu(self, menu: QMenu, ids, rows, clicked) -> None:
        if not ids:
            return
        if self._reload_if_changed():
            self._rebuild_bar()
        sub = menu.addMenu("Custom actions")
        sub.setObjectName("customActionsMenu")
        sub.setToolTipsVisible(True)
        for action in self.actions:
            count = ca.eligible_count(action, rows)
            entry = sub.addAction(f"{action.name} ({count})")
            entry.setObjectName(f"custom_{action.name}")
            entry.setEnabled(count > 0)
            entry.setToolTip(f"{action.name}: applies to {count} of {len(rows)} selected")
            entry.triggered.connect(lambda _=False, a=action, chosen=list(ids): self.run(a, chosen))
        if self.load_error:
            broken = sub.addAction("(custom actions file cannot be read)")
            broken.setToolTip(self.load_error)
            broken.setEnabled(False)
        if self.actions or self.load_error:
            sub.addSeparator()
        edit = sub.addAction("Edit custom actions…")
        edit.setObjectName("customActionsEdit")
        edit.triggered.connect(self.edit)

    def rebuild(self, bar) -> None:
        if not self.actions:
            return
        bar.toolbar.addSeparator()
        for action in self.actions:
            key = f"custom:{action.name}"
            entry = QAction(action.name, bar.toolbar)
            entry.setObjectName(BAR_PREFIX + action.name)
            entry.triggered.connect(lambda _=False, a=action: self.run(a, self.window.checked_ids()))
            bar.toolbar.addAction(entry)
            bar.buttons[key] = bar.toolbar.widgetForAction(entry)
            bar.buttons[key].setObjectName(BAR_PREFIX + action.name)
            bar.actions_by_key[key] = entry

    def update(self, bar, ids) -> None:
        if self._reload_if_changed():
            bar._rebuild(bool(self.window.is_archive_mode()))
        rows = self._rows(ids)
        for action in self.actions:
            entry = bar.actions_by_key.get(f"custom:{action.name}")
            if entry is not None:
                count = ca.eligible_count(action, rows)
                entry.setEnabled(count > 0)
                entry.setToolTip(f"{action.name}: applies to {count} of {len(rows)} selected")

    def _rebuild_bar(self) -> None:
        bar = getattr(getattr(self.window, "action_controller", None), "batch_bar", None)
        if bar is not None:
            bar._rebuild(bool(self.window.is_archive_mode()))
            bar.schedule_update()

    # ---- editing and running ---------------------------------------------------------------------------

    def edit(self) -> bool:
        self.reload()
        chosen = edit_actions(self.window, self.actions)
        if chosen is None:
            return False
        try:
            path = ca.save_actions(chosen)
        except (ca.CustomActionError, OSError) as exc:
            self.window.show_message(f"Could not save the custom actions: {exc}")
            return False
        self.actions = chosen
        self._rebuild_bar()
        self.window.show_message(f"{len(chosen)} custom action{'s' if len(chosen) != 1 else ''} saved",
                                 details=str(path))
        return True

    def run(self, action: ca.CustomAction, ids: Sequence[str]) -> ActionRunner | None:
        rows = self._rows(ids)
        if not any(action.applies_to(r["status"], r.get("type") or "training") for r in rows):
            self.window.show_message(f'"{action.name}" applies to none of the selected experiments')
            return None
        runner = ActionRunner(action, rows, url_for_display(self.window.db_url), self)
        runner.sig_done.connect(self._finished, Qt.ConnectionType.QueuedConnection)
        self.runners.append(runner)
        self.window.show_message(f'Running "{action.name}"…')
        runner.start()
        return runner

    def _finished(self, report: ca.ActionReport) -> None:
        self.runners = [r for r in self.runners if r.isRunning()]
        if self.panel is None:
            self.panel = OutputPanel(self.window)
        self.panel.add_report(report)
        failed = next((r for r in report.results if not r.ok), None)
        details = None
        if failed is not None:
            details = f"$ {failed.label}\n{failed.output[-4000:]}".rstrip()
        self.window.show_message(report.summary() + ("" if report.ok else " (see Action output)"), details=details)
        self.sig_finished.emit(report)

    def wait(self) -> None:
        for runner in list(self.runners):
            runner.wait()


def install_custom_actions(window) -> CustomActionsSupport:
    support = CustomActionsSupport(window)
    window.custom_actions = support
    controller = getattr(window, "action_controller", None)
    if controller is not None:
        controller.menu_extensions.append(support.extend_menu)
        bar = getattr(controller, "batch_bar", None)
        if bar is not None:
            bar.extensions.append(support)
            support._rebuild_bar()
    return support
