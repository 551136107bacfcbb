"""The action dialogs, each behind a small function that returns a plain result.

The controller calls these functions through this module (``dialogs.confirm``,
``dialogs.ask_queue`` ...), so a test replaces one with ``monkeypatch`` and
drives a whole flow without a modal loop. The dialog classes are public too,
so their own logic (defaults, validation, results) is tested directly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QColorDialog,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core.formatting import tag_colors
from exptable_desktop.core.lookups import QueueSnapshot, TagInfo, WorkerSnapshot
from exptable_desktop.core.projects import ProjectError, split_path
from exptable_desktop.ui import icons, palette
from exptable_desktop.ui.style import dialog_sheet

# Long selections are listed up to this many names, then "and N more".
LIST_LIMIT = 50
# The dialogs' margins and the room between their parts, in pixels.
MARGIN = 18
SPACING = 12
# The ``buttonRole`` property the dialog style sheet colours by.
PRIMARY, DESTRUCTIVE = "primary", "destructive"
PROJECT_PART_LIMIT = 255  # characters of one level of a project path (core.projects)


def project_path_problem(text: str) -> str:
    """Why ``text`` cannot name a project ("a/b/c"), or "" when it can."""
    try:
        parts = split_path(text)
    except ProjectError:
        return "Choose a project."
    if any(len(part) > PROJECT_PART_LIMIT for part in parts):
        return f"A project name has at most {PROJECT_PART_LIMIT} characters."
    return ""


def _searchable_combo(items: Sequence[str], current: str | None) -> QComboBox:
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItems(list(items))
    completer = QCompleter(list(items), combo)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    combo.setCompleter(completer)
    combo.setEditText(current or "")
    combo.setMinimumWidth(320)
    return combo


class ActionButtons(QDialogButtonBox):
    """Cancel and the dialog's action, as plain push buttons.

    Standard buttons (Ok, Cancel) carry the platform's stock icons on some desktops (a green tick
    on "Reset"); these carry none. A destructive action is red and never the default button:
    Enter cancels, the action takes a click.
    """

    def __init__(self, dialog: QDialog, action_text: str, *, destructive: bool = False):
        super().__init__()
        self.setObjectName("dialogButtons")
        self.action_button = QPushButton(action_text)
        self.action_button.setObjectName("destructiveButton" if destructive else "primaryButton")
        self.action_button.setProperty("buttonRole", DESTRUCTIVE if destructive else PRIMARY)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelButton")
        self.addButton(self.action_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        if destructive:
            self.action_button.setAutoDefault(False)
            self.cancel_button.setDefault(True)
        else:
            self.action_button.setDefault(True)
        self.accepted.connect(dialog.accept)
        self.rejected.connect(dialog.reject)


def _styled(dialog: QDialog) -> QVBoxLayout:
    """The app's look and spacing for ``dialog``; returns its (vertical) layout."""
    dialog.setStyleSheet(dialog_sheet())
    layout = QVBoxLayout(dialog)
    layout.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
    layout.setSpacing(SPACING)
    return layout


def _note(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


def _say(label: QLabel, text: str) -> None:
    """Show ``text`` in ``label``; an empty label takes no room (no gap above the buttons)."""
    label.setText(text)
    label.setVisible(bool(text))


# ---- Confirmation --------------------------------------------------------------------

@dataclass
class Confirmation:
    """What ``confirm`` returns: whether the person accepted, and the state of the dialog's option box."""

    accepted: bool
    checked: bool = False  # the dialog's option box, when it has one


class ConfirmDialog(QDialog):
    """A question, optionally a list of what it affects and one option box.

    ``destructive``: the action deletes or stops something for good; the dialog shows a warning
    sign and a red action button that is not the default.
    """

    def __init__(self, parent: QWidget | None, title: str, text: str, *, items: Sequence[str] = (),
                 checkbox: str | None = None, checkbox_default: bool = True, ok_text: str = "OK",
                 destructive: bool = False):
        super().__init__(parent)
        self.setObjectName("confirmDialog")
        self.setWindowTitle(title)
        layout = _styled(self)
        question = QHBoxLayout()
        question.setSpacing(SPACING)
        if destructive:
            sign = QLabel()
            sign.setObjectName("warningSign")
            sign.setPixmap(icons.icon("warning").pixmap(28, 28))
            question.addWidget(sign, 0, Qt.AlignmentFlag.AlignTop)
        self.text_label = QLabel(text)
        self.text_label.setObjectName("confirmText")
        self.text_label.setWordWrap(True)
        self.text_label.setMinimumWidth(420)
        question.addWidget(self.text_label, 1)
        layout.addLayout(question)
        self.item_list: QListWidget | None = None
        if items:
            self.item_list = QListWidget()
            self.item_list.setObjectName("confirmItems")
            # A list to read, not to pick from.
            self.item_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
            self.item_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            shown = list(items)[:LIST_LIMIT]
            self.item_list.addItems(shown)
            if len(items) > LIST_LIMIT:
                self.item_list.addItem(f"… and {len(items) - LIST_LIMIT} more")
            layout.addWidget(self.item_list)
            self.item_list.ensurePolished()  # the sheet's item padding counts in the row height
            rows = self.item_list.count()
            row_height = self.item_list.sizeHintForRow(0)
            self.item_list.setFixedHeight(min(220, row_height * rows + 2 * self.item_list.frameWidth() + 6))
        self.option: QCheckBox | None = None
        if checkbox:
            self.option = QCheckBox(checkbox)
            self.option.setObjectName("confirmOption")
            self.option.setChecked(checkbox_default)
            layout.addWidget(self.option)
        self.buttons = ActionButtons(self, ok_text, destructive=destructive)
        layout.addWidget(self.buttons)

    def result_value(self, accepted: bool) -> Confirmation:
        return Confirmation(accepted, bool(self.option and self.option.isChecked()))


def confirm(parent: QWidget | None, title: str, text: str, *, items: Sequence[str] = (),
            checkbox: str | None = None, checkbox_default: bool = True, ok_text: str = "OK",
            destructive: bool = False) -> Confirmation:
    dialog = ConfirmDialog(parent, title, text, items=items, checkbox=checkbox,
                           checkbox_default=checkbox_default, ok_text=ok_text, destructive=destructive)
    return dialog.result_value(dialog.exec() == QDialog.DialogCode.Accepted)


# ---- Enqueue / Retry -------------------------------------------------------------------

class QueueDialog(QDialog):
    """Pick a queue (type a new name to create it); warns when no worker listens to it."""

    def __init__(self, parent: QWidget | None, queues: Sequence[str], preselected: str, *, count: int,
                 retry: bool, has_workers: Callable[[str], bool]):
        super().__init__(parent)
        self.setObjectName("queueDialog")
        self._queues = set(queues)
        self._has_workers = has_workers
        noun = "experiment" if count == 1 else f"{count} experiments"
        self.setWindowTitle("Retry" if retry else "Enqueue")
        layout = _styled(self)
        text = (f"Enqueue the previously failed {noun} again; make sure you have corrected the problem first."
                if retry else f"Enqueue the {noun} for execution.")
        intro = QLabel(text)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.queue_combo = _searchable_combo(sorted(self._queues), preselected)
        self.queue_combo.setObjectName("queueCombo")
        form.addRow("Queue:", self.queue_combo)
        layout.addLayout(form)
        self.note = _note("queueNote")
        layout.addWidget(self.note)
        self.buttons = ActionButtons(self, "Retry" if retry else "Enqueue")
        layout.addWidget(self.buttons)
        self.queue_combo.editTextChanged.connect(self._update_note)
        self._update_note()

    def chosen(self) -> str:
        return self.queue_combo.currentText().strip()

    def _update_note(self) -> None:
        name = self.chosen()
        self.buttons.action_button.setEnabled(bool(name))
        if not name:
            _say(self.note, "Type a queue name.")
            return
        notes = []
        if name not in self._queues:
            notes.append(f'"{name}" is a new queue; it will be created.')
        if not self._has_workers(name):
            notes.append(f'⚠ No worker listens to "{name}": the experiments will wait as Pending until one does.')
        _say(self.note, "\n".join(notes))


def ask_queue(parent: QWidget | None, queues: Sequence[str], preselected: str, *, count: int, retry: bool,
              has_workers: Callable[[str], bool]) -> str | None:
    dialog = QueueDialog(parent, queues, preselected, count=count, retry=retry, has_workers=has_workers)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.chosen() or None


# ---- Clone / Move ------------------------------------------------------------------------

@dataclass
class CloneRequest:
    """What ``ask_clone`` returns when the Clone dialog is accepted: the target project, the name, whether the
    originals become parents, and the description."""

    project: str
    name: str | None  # None: each clone is named "Clone Of <original>"
    set_parent: bool
    description: str


class CloneDialog(QDialog):
    """Asks where to clone one or several experiments and under which name; Clone stays disabled while the project
    path or name is invalid, and ``request`` gives a CloneRequest."""

    def __init__(self, parent: QWidget | None, source_name: str, count: int, projects: Sequence[str],
                 default_project: str | None):
        super().__init__(parent)
        self.setObjectName("cloneDialog")
        self.setWindowTitle("Clone Experiment" if count == 1 else f"Clone {count} Experiments")
        self._count = count
        layout = _styled(self)
        form = QFormLayout()
        self.project_combo = _searchable_combo(projects, default_project)
        self.project_combo.setObjectName("cloneProject")
        self.project_combo.lineEdit().setPlaceholderText("Pick a project or type a new one (a/b/c)")
        form.addRow("Project:", self.project_combo)
        self.name_edit = QLineEdit(f"Clone Of {source_name}" if count == 1 else "")
        self.name_edit.setObjectName("cloneName")
        if count != 1:
            self.name_edit.setPlaceholderText("Each clone is named \"Clone Of <name>\"")
            self.name_edit.setEnabled(False)
        form.addRow("Name:", self.name_edit)
        self.parent_box = QCheckBox(f'Set "{source_name}" as parent' if count == 1 else "Set the originals as parents")
        self.parent_box.setObjectName("cloneSetParent")
        form.addRow("", self.parent_box)
        self.description_edit = QPlainTextEdit()
        self.description_edit.setObjectName("cloneDescription")
        self.description_edit.setPlaceholderText("Description (optional)")
        self.description_edit.setMaximumHeight(90)
        form.addRow("Description:", self.description_edit)
        layout.addLayout(form)
        self.error = _note("dialogError")
        layout.addWidget(self.error)
        self.buttons = ActionButtons(self, "Clone")
        layout.addWidget(self.buttons)
        self.project_combo.editTextChanged.connect(self._validate)
        self.name_edit.textChanged.connect(self._validate)
        self._validate()

    def _problem(self) -> str:
        problem = project_path_problem(self.project_combo.currentText())
        if problem:
            return problem
        if self._count == 1 and len(self.name_edit.text().strip()) < 2:
            return "A name needs at least 2 characters."
        return ""

    def _validate(self) -> None:
        problem = self._problem()
        _say(self.error, problem)
        self.buttons.action_button.setEnabled(not problem)

    def request(self) -> CloneRequest:
        return CloneRequest(
            project=self.project_combo.currentText().strip().strip("/"),
            name=self.name_edit.text().strip() if self._count == 1 else None,
            set_parent=self.parent_box.isChecked(),
            description=self.description_edit.toPlainText(),
        )


def ask_clone(parent: QWidget | None, source_name: str, count: int, projects: Sequence[str],
              default_project: str | None) -> CloneRequest | None:
    dialog = CloneDialog(parent, source_name, count, projects, default_project)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.request()


class ProjectDialog(QDialog):
    """Move to Project: pick a project or type a path; Move is enabled only for a usable path."""

    def __init__(self, parent: QWidget | None, count: int, projects: Sequence[str], default: str | None):
        super().__init__(parent)
        self.setObjectName("moveDialog")
        self.setWindowTitle("Move to Project")
        layout = _styled(self)
        noun = "the experiment" if count == 1 else f"the {count} experiments"
        intro = QLabel(f"Move {noun} to this project:")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.project_combo = _searchable_combo(projects, default)
        self.project_combo.setObjectName("moveProject")
        self.project_combo.lineEdit().setPlaceholderText("Pick a project or type a new one (a/b/c)")
        layout.addWidget(self.project_combo)
        self.error = _note("dialogError")
        layout.addWidget(self.error)
        self.buttons = ActionButtons(self, "Move")
        layout.addWidget(self.buttons)
        self.project_combo.editTextChanged.connect(self._validate)
        self._validate()

    def chosen(self) -> str:
        return self.project_combo.currentText().strip().strip("/")

    def _validate(self) -> None:
        problem = project_path_problem(self.project_combo.currentText())
        # An empty field is no error yet: the button says it all until something is typed.
        _say(self.error, problem if self.project_combo.currentText().strip() else "")
        self.buttons.action_button.setEnabled(not problem)


def ask_project(parent: QWidget | None, count: int, projects: Sequence[str], default: str | None) -> str | None:
    dialog = ProjectDialog(parent, count, projects, default)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.chosen() or None


class TextDialog(QDialog):
    """One line of text (a new project's name, a new name): the action is enabled only for a usable
    value, and the reason shows under the field once something is typed."""

    def __init__(self, parent: QWidget | None, title: str, label: str, text: str = "", *,
                 action_text: str = "OK", problem: Callable[[str], str] | None = None):
        super().__init__(parent)
        self.setObjectName("textDialog")
        self.setWindowTitle(title)
        self._problem = problem or (lambda value: "" if value.strip() else "a name is needed")
        layout = _styled(self)
        prompt = QLabel(label)
        prompt.setWordWrap(True)
        layout.addWidget(prompt)
        self.line_edit = QLineEdit(text)
        self.line_edit.setObjectName("textDialogValue")
        self.line_edit.selectAll()
        layout.addWidget(self.line_edit)
        self.error = _note("dialogError")
        layout.addWidget(self.error)
        self.buttons = ActionButtons(self, action_text)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(360)
        self.line_edit.textChanged.connect(self._validate)
        self._validate()

    def value(self) -> str:
        return self.line_edit.text().strip()

    def _validate(self) -> None:
        problem = self._problem(self.line_edit.text())
        _say(self.error, problem if self.line_edit.text().strip() else "")
        self.buttons.action_button.setEnabled(not problem)


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "", *, action_text: str = "OK",
             problem: Callable[[str], str] | None = None) -> str | None:
    """The text typed and accepted (stripped), or None when cancelled."""
    dialog = TextDialog(parent, title, label, text, action_text=action_text, problem=problem)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.value()


# ---- Tag colours -----------------------------------------------------------------------------

def chip_style(background: str, foreground: str) -> str:
    return (f"background: {background}; color: {foreground}; border-radius: 8px; "
            f"padding: 1px 8px; font-size: 11px;")


class TagColorsDialog(QDialog):
    """Background and foreground per tag; unchanged tags keep the default palette."""

    def __init__(self, parent: QWidget | None, tags: Sequence[TagInfo]):
        super().__init__(parent)
        self.setObjectName("tagColorsDialog")
        self.setWindowTitle("Tag Colours")
        self._original = {t.name: (t.background, t.foreground) for t in tags}
        self._current = dict(self._original)
        layout = _styled(self)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Search tags")
        layout.addWidget(self.filter_edit)
        self.table = QTableWidget(len(tags), 4)
        self.table.setObjectName("tagColorsTable")
        self.table.setHorizontalHeaderLabels(["Tag", "Background", "Foreground", ""])
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self._chips: dict[str, QLabel] = {}
        self._swatches: dict[tuple[str, str], QPushButton] = {}
        self._rows: dict[str, int] = {}
        for row, tag in enumerate(tags):
            self._rows[tag.name] = row
            chip = QLabel(tag.name)
            self._chips[tag.name] = chip
            self.table.setCellWidget(row, 0, self._centered(chip))
            for col, which in ((1, "background"), (2, "foreground")):
                button = QPushButton()
                button.setToolTip(f"Choose the {which} colour of \"{tag.name}\"")
                button.clicked.connect(lambda _=False, n=tag.name, w=which: self._pick(n, w))
                self._swatches[(tag.name, which)] = button
                self.table.setCellWidget(row, col, button)
            reset = QPushButton("Default")
            reset.clicked.connect(lambda _=False, n=tag.name: self.set_colors(n, None, None))
            self.table.setCellWidget(row, 3, reset)
            self._paint(tag.name)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumSize(460, 260)
        layout.addWidget(self.table)
        self.buttons = ActionButtons(self, "Save")
        layout.addWidget(self.buttons)
        self.filter_edit.textChanged.connect(self._filter)

    @staticmethod
    def _centered(widget: QWidget) -> QWidget:
        holder = QWidget()
        box = QHBoxLayout(holder)
        box.setContentsMargins(6, 2, 6, 2)
        box.addWidget(widget)
        box.addStretch(1)
        return holder

    def _paint(self, name: str) -> None:
        bg, fg = tag_colors(name, *self._current[name])
        self._chips[name].setStyleSheet(chip_style(bg, fg))
        for which, color in (("background", bg), ("foreground", fg)):
            swatch = self._swatches[(name, which)]
            swatch.setText(color)
            text = palette.contrasting_text(color)
            swatch.setStyleSheet(f"background: {color}; color: {text}; border: 1px solid palette(mid); padding: 2px 8px;")

    def _filter(self, text: str) -> None:
        text = text.strip().lower()
        for name, row in self._rows.items():
            self.table.setRowHidden(row, bool(text) and text not in name.lower())

    def _pick(self, name: str, which: str) -> None:
        bg, fg = tag_colors(name, *self._current[name])
        color = QColorDialog.getColor(QColor(bg if which == "background" else fg), self, f"{name}: {which}")
        if color.isValid():
            current_bg, current_fg = self._current[name]
            if which == "background":
                self.set_colors(name, color.name(), current_fg)
            else:
                self.set_colors(name, current_bg, color.name())

    def set_colors(self, name: str, background: str | None, foreground: str | None) -> None:
        self._current[name] = (background, foreground)
        self._paint(name)

    def changes(self) -> dict[str, tuple[str | None, str | None]]:
        return {n: c for n, c in self._current.items() if c != self._original[n]}


def ask_tag_colors(parent: QWidget | None, tags: Sequence[TagInfo]) -> dict[str, tuple[str | None, str | None]] | None:
    """Changed tags -> (background, foreground), None meaning the default; None if cancelled."""
    dialog = TagColorsDialog(parent, tags)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.changes()


# ---- Manage Queue / View Worker ----------------------------------------------------------------

def show_queue(parent: QWidget | None, snapshot: QueueSnapshot, highlight_id: str | None = None) -> None:
    """The Workers & Queues window on the experiment's queue, with its entry selected."""
    from exptable_desktop.ui.workers_queues import show_queue as open_queue
    open_queue(parent, snapshot.name, highlight_id)


def show_worker(parent: QWidget | None, snapshot: WorkerSnapshot) -> None:
    """The Workers & Queues window on the worker running the experiment."""
    from exptable_desktop.ui.workers_queues import show_worker as open_worker
    open_worker(parent, snapshot.name)
