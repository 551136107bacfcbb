"""The New Experiment wizard: Code, Arguments, Environment, Container and Run, then Draft or Run.

The pages ask what ``core.create.ExecutionSpec`` holds, and the experiment is made by
``core.create.create_from_spec``, the function ``exptable create`` and the SDK's
``Task.create`` call too, so the three agree on what is valid. The field checks of
``validate_spec`` run as you type; the ones that read the repository (``git ls-remote``,
the script at that version) run on a background thread once typing pauses. Problems are
shown as a line under their field, never as a traceback.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QThread, QTimer, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from exptable_desktop.core import create as creating
from exptable_desktop.core import lookups
from exptable_desktop.core import queues as queue_ops
from exptable_desktop.core.actions import ActionError
from exptable_desktop.core.repos import RepoError, is_url, module_path_candidates
from exptable_desktop.core.database import StoreError, first_line
from exptable_desktop.ui.actions import preferences
from exptable_desktop.ui.palette import themed

# Typing pauses this long before the repository, version and script are checked.
CHECK_DELAY_MS = 400
ERROR_STYLE = themed("color: $danger;")
NOTE_STYLE = themed("color: $text_secondary;")
WARNING_STYLE = themed("color: $warning;")

PAGE_CODE, PAGE_ARGUMENTS, PAGE_ENVIRONMENT, PAGE_CONTAINER, PAGE_RUN = range(5)
VERSION_KINDS = ("branch", "tag", "commit")
PACKAGES_NONE, PACKAGES_REQUIREMENTS, PACKAGES_LISTED = "none", "requirements", "packages"

# The page of each ExecutionSpec field that validate_spec may name.
FIELD_PAGES = {
    "name": PAGE_CODE, "project": PAGE_CODE, "task_type": PAGE_CODE, "repository": PAGE_CODE,
    "branch": PAGE_CODE, "tag": PAGE_CODE, "commit": PAGE_CODE, "working_dir": PAGE_CODE,
    "script": PAGE_CODE, "module": PAGE_CODE, "arguments": PAGE_ARGUMENTS, "python": PAGE_ENVIRONMENT,
    "venv": PAGE_ENVIRONMENT, "packages_mode": PAGE_ENVIRONMENT, "requirements": PAGE_ENVIRONMENT,
    "packages": PAGE_ENVIRONMENT, "container_image": PAGE_CONTAINER, "container_args": PAGE_CONTAINER,
    "container_setup": PAGE_CONTAINER, "queue": PAGE_RUN, "output_uri": PAGE_RUN,
}
# What only the repository can tell (checked off the UI thread); the rest is checked as you type.
REPOSITORY_FIELDS = ("repository", "branch", "tag", "commit", "script", "module")

# Running checks, kept referenced until they end: a QThread freed while it runs takes the process down.
_RUNNING: set[QThread] = set()


class BackgroundCall(QThread):
    """Runs ``fn()`` off the UI thread (it must not touch the database); ``sig_done(result, error, token)``
    arrives on the UI thread. Receivers are bound methods, so a wizard closed meanwhile gets nothing."""

    sig_done = Signal(object, str, object)

    def __init__(self, fn: Callable[[], object], token: object):
        super().__init__()
        self._fn, self._token = fn, token

    def run(self) -> None:
        try:
            result, error = self._fn(), ""
        except (RepoError, OSError, ValueError) as exc:
            result, error = None, first_line(exc)
        self.sig_done.emit(result, error, self._token)

    @classmethod
    def start_call(cls, fn: Callable[[], object], on_done: Callable[[object, str, object], None],
                   token: object = None) -> "BackgroundCall":
        call = cls(fn, token)
        call.sig_done.connect(on_done)
        _RUNNING.add(call)

        def forget():
            # One slot, in this order: with two, the queued deleteLater could free the thread
            # before the discard ran, leaving a dead object in _RUNNING.
            _RUNNING.discard(call)
            call.deleteLater()
        call.finished.connect(forget)
        call.start()
        return call


def wait_for_checks(timeout_ms: int = 5000) -> None:
    """Let the running checks end (tests, and before the database closes)."""
    for call in list(_RUNNING):
        if not shiboken6.isValid(call):
            _RUNNING.discard(call)
            continue
        call.wait(timeout_ms)


def sentence(text: str) -> str:
    """Core's messages are fragments ("a name needs at least 2 characters"); under a field they read as sentences."""
    text = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


class FieldMessage(QLabel):
    """The line under a field: an error (red), a warning (amber) or a note (grey); hidden when empty."""

    def __init__(self, name: str):
        super().__init__()
        self.setObjectName(name)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.font()
        font.setPointSizeF(max(7.5, font.pointSizeF() - 1))
        self.setFont(font)
        self.kind = ""
        self.hide()

    def show_text(self, text: str, kind: str = "error") -> None:
        if text == self.text() and (kind if text else "") == self.kind:
            return  # every keystroke re-validates; a style sheet set again costs a restyle
        self.kind = kind if text else ""
        self.setText(text)
        self.setStyleSheet({"error": ERROR_STYLE, "warning": WARNING_STYLE}.get(kind, NOTE_STYLE))
        self.setVisible(bool(text))


def _with_message(field: QWidget, message: FieldMessage) -> QWidget:
    holder = QWidget()
    box = QVBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(2)
    box.addWidget(field)
    box.addWidget(message)
    return holder


def _row(*widgets: QWidget, stretch: int = 0) -> QWidget:
    holder = QWidget()
    box = QHBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(6)
    for i, widget in enumerate(widgets):
        box.addWidget(widget, 1 if i == stretch else 0)
    return holder


def _browse_button(name: str, edit: QLineEdit, *, folder: bool, title: str) -> QPushButton:
    button = QPushButton("Browse…")
    button.setObjectName(name)

    def pick() -> None:
        start = edit.text().strip()
        chosen = (QFileDialog.getExistingDirectory(button, title, start) if folder
                  else QFileDialog.getOpenFileName(button, title, start)[0])
        if chosen:
            edit.setText(chosen)
    button.clicked.connect(pick)
    return button


def _combo(name: str, items: list[str], current: str, placeholder: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItems(items)
    completer = QCompleter(items, combo)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    combo.setCompleter(completer)
    combo.setEditText(current)
    combo.lineEdit().setPlaceholderText(placeholder)
    return combo


def _form(page: QWizardPage) -> QFormLayout:
    form = QFormLayout(page)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
    form.setVerticalSpacing(10)
    return form


# ---- Pages ---------------------------------------------------------------------------------

class WizardPage(QWizardPage):
    """Next is offered once the page's fields pass the checks that need no repository."""

    page_id = -1

    def isComplete(self) -> bool:
        wizard = self.wizard()
        return not isinstance(wizard, NewExperimentWizard) or not wizard.page_problems(self.page_id, typed_only=True)


class CodePage(WizardPage):
    """The wizard's first page: name and project, then the repository or local folder, its version, the working
    directory and the entry point (script or module)."""

    page_id = PAGE_CODE

    def __init__(self, projects: list[str], project: str | None):
        super().__init__()
        self.setObjectName("wizardCodePage")
        self.setTitle("Code")
        self.setSubTitle("What to run: a git repository or a local folder, the version, and the entry point.")
        form = _form(self)

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("wizardName")
        self.name_edit.setPlaceholderText("Experiment name")
        self.name_message = FieldMessage("wizardNameMessage")
        form.addRow("Name:", _with_message(self.name_edit, self.name_message))

        self.project_combo = _combo("wizardProject", projects, project or "", "Project (type a/b to create one)")
        self.project_message = FieldMessage("wizardProjectMessage")
        form.addRow("Project:", _with_message(self.project_combo, self.project_message))

        self.repo_edit = QLineEdit()
        self.repo_edit.setObjectName("wizardRepository")
        self.repo_edit.setPlaceholderText("https://host/org/repo.git, git@host:org/repo.git or a local folder")
        self.repo_message = FieldMessage("wizardRepositoryMessage")
        form.addRow("Repository:", _with_message(_row(self.repo_edit, _browse_button(
            "wizardRepositoryBrowse", self.repo_edit, folder=True, title="Local folder or repository")),
            self.repo_message))

        self.version_kind = QComboBox()
        self.version_kind.setObjectName("wizardVersionKind")
        self.version_kind.addItems(["Branch", "Tag", "Commit"])
        self.version_edit = QLineEdit()
        self.version_edit.setObjectName("wizardVersion")
        self.version_message = FieldMessage("wizardVersionMessage")
        form.addRow("Version:", _with_message(_row(self.version_kind, self.version_edit, stretch=1),
                                              self.version_message))
        self.version_kind.currentIndexChanged.connect(self._version_placeholder)
        self._version_placeholder()

        self.working_dir_edit = QLineEdit()
        self.working_dir_edit.setObjectName("wizardWorkingDir")
        self.working_dir_edit.setPlaceholderText(". (the repository's top folder)")
        self.working_dir_message = FieldMessage("wizardWorkingDirMessage")
        form.addRow("Working directory:", _with_message(self.working_dir_edit, self.working_dir_message))

        self.script_radio = QRadioButton("Script")
        self.script_radio.setObjectName("wizardEntryScript")
        self.module_radio = QRadioButton("Module")
        self.module_radio.setObjectName("wizardEntryModule")
        self.script_radio.setChecked(True)
        self.entry_group = QButtonGroup(self)
        self.entry_group.addButton(self.script_radio)
        self.entry_group.addButton(self.module_radio)
        self.entry_edit = QLineEdit()
        self.entry_edit.setObjectName("wizardEntryPoint")
        self.entry_message = FieldMessage("wizardEntryMessage")
        form.addRow("Entry point:", _with_message(_row(self.script_radio, self.module_radio, self.entry_edit,
                                                       stretch=2), self.entry_message))
        self.script_radio.toggled.connect(self._entry_placeholder)
        self._entry_placeholder()

        self.task_init_box = QCheckBox("Add Task.init call (for a script that does not call it)")
        self.task_init_box.setObjectName("wizardAddTaskInit")
        self.task_init_box.setToolTip("The agent inserts a Task.init() call into its copy of the entry point, "
                                      "so the script's arguments and output are recorded")
        form.addRow("", self.task_init_box)

    def _version_placeholder(self) -> None:
        self.version_edit.setPlaceholderText({
            "branch": "main (empty: the default branch, or a local folder as it is now)",
            "tag": "v1.0", "commit": "a commit id (4 to 40 hex digits)",
        }[VERSION_KINDS[self.version_kind.currentIndex()]])

    def _entry_placeholder(self) -> None:
        self.entry_edit.setPlaceholderText("train.py (relative to the working directory)"
                                           if self.script_radio.isChecked() else "package.train (as in python -m)")


class ArgumentsPage(WizardPage):
    """The wizard's hyperparameters table (section, name, value), filled by hand or by Detect, which reads the
    script's argparse arguments with their types and help."""

    page_id = PAGE_ARGUMENTS
    HEADERS = ("Section", "Name", "Value")
    # Detected type and help ride along on the Name cell, into the hyperparameter's type and description.
    ROLE_TYPE = Qt.ItemDataRole.UserRole + 1
    ROLE_HELP = Qt.ItemDataRole.UserRole + 2

    def __init__(self):
        super().__init__()
        self.setObjectName("wizardArgumentsPage")
        self.setTitle("Arguments")
        self.setSubTitle("Hyperparameters the script gets (optional). Detect reads its argparse arguments "
                         "without running it.")
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("wizardArgumentsTable")
        self.table.setHorizontalHeaderLabels(list(self.HEADERS))
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(0, 110)
        self.table.setColumnWidth(1, 200)
        layout.addWidget(self.table, 1)
        self.message = FieldMessage("wizardArgumentsMessage")
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("wizardArgumentAdd")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("wizardArgumentRemove")
        self.detect_button = QPushButton("Detect")
        self.detect_button.setObjectName("wizardArgumentsDetect")
        self.detect_button.setToolTip("Fill the table from the entry point's argparse arguments (read, not run)")
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.detect_button)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(lambda: self.add_argument(creating.ARGS_SECTION, "", "", edit=True))
        self.remove_button.clicked.connect(self.remove_selected)

    def add_argument(self, section: str, name: str, value: str, *, type_: str = "", help_: str = "",
                     edit: bool = False) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for col, text in enumerate((section, name, value)):
            item = QTableWidgetItem(text)
            if col == 1:
                item.setData(self.ROLE_TYPE, type_)
                item.setData(self.ROLE_HELP, help_)
                if help_:
                    item.setToolTip(help_)
            self.table.setItem(row, col, item)
        if edit:
            self.table.setCurrentCell(row, 1)
            self.table.editItem(self.table.item(row, 1))
        return row

    def remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)

    def _cell(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.text().strip() if item else ""

    def arguments(self) -> list[creating.Argument]:
        """The table's rows; a row left wholly empty is ignored, one with a value but no name is kept
        (validate_spec then says every argument needs a name)."""
        out = []
        for row in range(self.table.rowCount()):
            section, name, value = (self._cell(row, c) for c in range(3))
            if not (name or value):
                continue
            item = self.table.item(row, 1)
            out.append(creating.Argument(
                name=name, value=value, section=section or creating.ARGS_SECTION,
                type=(item.data(self.ROLE_TYPE) or "") if item else "",
                description=(item.data(self.ROLE_HELP) or "") if item else ""))
        return out

    def add_detected(self, found: list[creating.DetectedArgument]) -> int:
        """Append detected arguments; ones already in the table keep their values. Returns how many were new."""
        have = {(a.section, a.name) for a in self.arguments()}
        added = 0
        for arg in found:
            if (arg.section, arg.name) not in have:
                self.add_argument(arg.section, arg.name, arg.default, type_=arg.type, help_=arg.help)
                added += 1
        return added


class EnvironmentPage(WizardPage):
    """The wizard's Python settings: the interpreter, a pre-installed venv, and which packages to install (none, a
    requirements file, or a list)."""

    page_id = PAGE_ENVIRONMENT

    def __init__(self):
        super().__init__()
        self.setObjectName("wizardEnvironmentPage")
        self.setTitle("Environment")
        self.setSubTitle("The Python the agent runs the entry point with (optional).")
        form = _form(self)
        self.python_edit = QLineEdit()
        self.python_edit.setObjectName("wizardPython")
        self.python_edit.setPlaceholderText("python3.11 or a path (empty: the agent's Python)")
        form.addRow("Python binary:", self.python_edit)
        self.venv_edit = QLineEdit()
        self.venv_edit.setObjectName("wizardVenv")
        self.venv_edit.setPlaceholderText("An existing virtual environment, used as it is")
        self.venv_message = FieldMessage("wizardVenvMessage")
        form.addRow("Pre-installed venv:", _with_message(_row(self.venv_edit, _browse_button(
            "wizardVenvBrowse", self.venv_edit, folder=True, title="Virtual environment")), self.venv_message))

        self.packages_group = QButtonGroup(self)
        self.packages_none = QRadioButton("None: use the packages already installed")
        self.packages_none.setObjectName("wizardPackagesNone")
        self.packages_requirements = QRadioButton("A requirements file:")
        self.packages_requirements.setObjectName("wizardPackagesRequirements")
        self.packages_listed = QRadioButton("These packages, one per line:")
        self.packages_listed.setObjectName("wizardPackagesListed")
        for button in (self.packages_none, self.packages_requirements, self.packages_listed):
            self.packages_group.addButton(button)
        self.packages_none.setChecked(True)
        self.requirements_edit = QLineEdit()
        self.requirements_edit.setObjectName("wizardRequirementsFile")
        self.requirements_edit.setPlaceholderText("/path/to/requirements.txt (read when the experiment is made)")
        self.requirements_message = FieldMessage("wizardRequirementsMessage")
        self.packages_edit = QPlainTextEdit()
        self.packages_edit.setObjectName("wizardPackages")
        self.packages_edit.setPlaceholderText("numpy>=1.24\ntorch==2.3.1")
        self.packages_edit.setMinimumHeight(80)
        self.packages_message = FieldMessage("wizardPackagesMessage")

        packages = QWidget()
        packages.setObjectName("wizardPackagesBox")
        box = QVBoxLayout(packages)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addWidget(self.packages_none)
        box.addWidget(self.packages_requirements)
        box.addWidget(self._indented(_row(self.requirements_edit, _browse_button(
            "wizardRequirementsBrowse", self.requirements_edit, folder=False, title="Requirements file")),
            self.requirements_message))
        box.addWidget(self.packages_listed)
        box.addWidget(self._indented(self.packages_edit, self.packages_message), 1)
        form.addRow("Packages:", packages)
        for button in (self.packages_none, self.packages_requirements, self.packages_listed):
            button.toggled.connect(self._enable_inputs)
        self._enable_inputs()

    @staticmethod
    def _indented(*widgets: QWidget) -> QWidget:
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(24, 0, 0, 0)
        box.setSpacing(2)
        for widget in widgets:
            box.addWidget(widget)
        return holder

    def packages_mode(self) -> str:
        if self.packages_requirements.isChecked():
            return PACKAGES_REQUIREMENTS
        if self.packages_listed.isChecked():
            return PACKAGES_LISTED
        return PACKAGES_NONE

    def _enable_inputs(self) -> None:
        mode = self.packages_mode()
        self.requirements_edit.setEnabled(mode == PACKAGES_REQUIREMENTS)
        self.packages_edit.setEnabled(mode == PACKAGES_LISTED)

    def listed_packages(self) -> list[str]:
        return [line.strip() for line in self.packages_edit.toPlainText().splitlines()
                if line.strip() and not line.strip().startswith("#")]

    def requirements(self) -> tuple[str, str]:
        """(the requirements file's text, why it cannot be read or "")."""
        text = self.requirements_edit.text().strip()
        if not text:
            return "", "give the requirements file, or choose another option"
        path = Path(text).expanduser()
        if not path.is_file():
            return "", f"no file {path}"
        try:
            return path.read_text(encoding="utf-8"), ""
        except (OSError, UnicodeDecodeError) as exc:
            return "", f"cannot read {path}: {first_line(exc)}"


class ContainerPage(WizardPage):
    """The wizard's optional Docker settings: the image, extra run arguments, and a setup script run in the
    container before the entry point."""

    page_id = PAGE_CONTAINER

    def __init__(self):
        super().__init__()
        self.setObjectName("wizardContainerPage")
        self.setTitle("Container")
        self.setSubTitle("Run inside a Docker image (optional; the agent runs it with exptable agent --docker).")
        form = _form(self)
        self.image_edit = QLineEdit()
        self.image_edit.setObjectName("wizardImage")
        self.image_edit.setPlaceholderText("python:3.11-slim")
        self.image_message = FieldMessage("wizardImageMessage")
        form.addRow("Image:", _with_message(self.image_edit, self.image_message))
        self.args_edit = QLineEdit()
        self.args_edit.setObjectName("wizardContainerArgs")
        self.args_edit.setPlaceholderText("--ipc=host -e KEY=value")
        form.addRow("Arguments:", self.args_edit)
        self.setup_edit = QPlainTextEdit()
        self.setup_edit.setObjectName("wizardSetupScript")
        self.setup_edit.setPlaceholderText("# bash, run in the container before the entry point\n"
                                           "apt-get update && apt-get install -y libgl1")
        self.setup_edit.setMinimumHeight(110)
        form.addRow("Set-up script:", self.setup_edit)


class RunPage(WizardPage):
    """The wizard's last page: the queue to enqueue on (a name not listed is a new queue) and the output
    destination."""

    page_id = PAGE_RUN

    def __init__(self, queues: list[str], default_queue: str):
        super().__init__()
        self.setObjectName("wizardRunPage")
        self.setTitle("Run")
        self.setSubTitle("Run enqueues it for an agent; Save as Draft keeps it to edit and enqueue later.")
        form = _form(self)
        self._queues = set(queues)
        self.queue_combo = _combo("wizardQueue", queues, default_queue, "Pick a queue or type a new name")
        self.queue_message = FieldMessage("wizardQueueMessage")
        form.addRow("Queue:", _with_message(self.queue_combo, self.queue_message))
        self.output_edit = QLineEdit()
        self.output_edit.setObjectName("wizardOutput")
        self.output_edit.setPlaceholderText("/mnt/share/models or s3://bucket/folder (empty: ExpTable's files)")
        self.output_message = FieldMessage("wizardOutputMessage")
        form.addRow("Output destination:", _with_message(self.output_edit, self.output_message))

    def queue(self) -> str:
        return self.queue_combo.currentText().strip()

    def is_new_queue(self, name: str) -> bool:
        return name not in self._queues


# ---- The wizard ----------------------------------------------------------------------------------

class RepositoryCheck:
    """What reading the repository said: problems per field, and notes for the fields that passed."""

    def __init__(self, errors: dict[str, str], notes: dict[str, str]):
        self.errors = errors
        self.notes = notes


def check_repository(spec: creating.ExecutionSpec) -> RepositoryCheck:
    """validate_spec's repository checks, plus the commit a branch or tag resolves to (background thread)."""
    errors = {k: v for k, v in creating.validate_spec(spec).items() if k in REPOSITORY_FIELDS}
    notes: dict[str, str] = {}
    if not errors:
        version = creating.version_of(spec)
        given = spec.branch or spec.tag or spec.commit
        if not version:
            notes["repository"] = "A local folder (not a git repository): the agent copies it as it is."
        elif not given and not is_url(spec.repository):
            notes["version"] = f"The folder as it is now: commit {version[:12]} plus its uncommitted changes."
        else:
            notes["version"] = f"Commit {version[:12]}" + ("" if spec.commit else f" ({given or 'default branch'})")
    return RepositoryCheck(errors, notes)


def detect_in(spec: creating.ExecutionSpec) -> list[creating.DetectedArgument]:
    """The entry point's argparse arguments at the spec's version (background thread)."""
    repository = spec.repository.strip()
    version = creating.version_of(spec)
    if not is_url(repository) and not (spec.branch or spec.tag or spec.commit):
        version = ""  # the local folder as it is now, uncommitted changes included
    working_dir = spec.working_dir or "."
    if spec.script.strip():
        return creating.detect_arguments_at(repository, version, spec.script.strip(), working_dir)
    last_error: RepoError | None = None
    for candidate in module_path_candidates(spec.module.strip()):
        try:
            return creating.detect_arguments_at(repository, version, candidate, working_dir)
        except RepoError as exc:
            last_error = exc
    raise last_error or RepoError("no module given")


class NewExperimentWizard(QWizard):
    """Five pages; "Save as Draft" and "Run" finish from any page once the spec is valid.

    After either one, ``created_id`` is the new experiment's id and ``sig_created(id, enqueued)``
    has been emitted.
    """

    sig_created = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None, project: str | None = None):
        super().__init__(parent)
        self.setObjectName("newExperimentWizard")
        self.setWindowTitle("New Experiment")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.HaveCustomButton1, True)
        self.setOption(QWizard.WizardOption.HaveCustomButton2, True)
        self.setButtonText(QWizard.WizardButton.CustomButton1, "Save as Draft")
        self.setButtonText(QWizard.WizardButton.CustomButton2, "Run")
        self.setButtonLayout([QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                              QWizard.WizardButton.Stretch, QWizard.WizardButton.CancelButton,
                              QWizard.WizardButton.CustomButton1, QWizard.WizardButton.CustomButton2])
        self.draft_button = self.button(QWizard.WizardButton.CustomButton1)
        self.draft_button.setObjectName("wizardSaveDraft")
        self.run_button = self.button(QWizard.WizardButton.CustomButton2)
        self.run_button.setObjectName("wizardRun")
        self.created_id: str | None = None
        self.enqueued = False
        self.checking = False
        self._check_generation = 0
        self._checked_spec_key: tuple | None = None
        self._repository_errors: dict[str, str] = {}
        self._repository_notes: dict[str, str] = {}
        self._finish_errors: dict[str, str] = {}
        self._queue_noted: str | None = None
        self._touched: set[FieldMessage] = set()
        self._show_all = False  # after a finish was tried, every problem shows

        self.code_page = CodePage(lookups.project_path_list(), project)
        self.arguments_page = ArgumentsPage()
        self.environment_page = EnvironmentPage()
        self.container_page = ContainerPage()
        self.run_page = RunPage(lookups.queue_names(), preferences.last_queue())
        for page in (self.code_page, self.arguments_page, self.environment_page, self.container_page, self.run_page):
            self.setPage(page.page_id, page)
        self.setStartId(PAGE_CODE)
        self.steps = self._build_steps()
        self.setSideWidget(self.steps)
        self.resize(880, 620)

        self._check_timer = QTimer(self, singleShot=True, interval=CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self._start_repository_check)
        self._connect_fields()
        self.draft_button.clicked.connect(lambda: self.finish(run=False))
        self.run_button.clicked.connect(lambda: self.finish(run=True))
        self.currentIdChanged.connect(lambda _id: self._update_buttons())
        self._validate()

    def _build_steps(self) -> QListWidget:
        """The pages by name, the current one selected and the ones with a problem marked; a click goes there."""
        steps = QListWidget()
        steps.setObjectName("wizardSteps")
        steps.setFrameShape(QListWidget.Shape.NoFrame)
        steps.setFixedWidth(150)
        steps.setStyleSheet(themed("QListWidget#wizardSteps { background: transparent; }"
                            "QListWidget#wizardSteps::item { padding: 6px 8px; border-radius: 4px; }"
                            "QListWidget#wizardSteps::item:selected { background: $accent_soft; color: $accent; }"))
        for page_id in range(PAGE_RUN + 1):
            item = QListWidgetItem(self.page(page_id).title())
            item.setData(Qt.ItemDataRole.UserRole, page_id)
            steps.addItem(item)
        steps.setCurrentRow(PAGE_CODE)
        steps.itemClicked.connect(lambda item: self._go_to(item.data(Qt.ItemDataRole.UserRole)))
        self.currentIdChanged.connect(lambda page_id: steps.setCurrentRow(max(0, page_id)))
        return steps

    def _mark_steps(self, problems: dict[str, str]) -> None:
        pages = {FIELD_PAGES.get(k, PAGE_CODE) for k in problems}
        for row in range(self.steps.count()):
            item = self.steps.item(row)
            title = self.page(row).title()
            item.setText(f"{title}  ●" if row in pages else title)
            item.setForeground(QColor(themed("$danger")) if row in pages else QColor(themed("$text")))
            item.setToolTip("Something here needs fixing" if row in pages else "")

    def _connect_fields(self) -> None:
        code, args, env, box, run = (self.code_page, self.arguments_page, self.environment_page,
                                     self.container_page, self.run_page)
        # (what changes, the messages it makes worth showing, whether it changes what the repository check reads)
        fields = [
            (code.name_edit.textChanged, [code.name_message], False),
            (code.project_combo.editTextChanged, [code.project_message], False),
            (code.repo_edit.textChanged, [code.repo_message], True),
            (code.version_kind.currentIndexChanged, [code.version_message], True),
            (code.version_edit.textChanged, [code.version_message], True),
            (code.working_dir_edit.textChanged, [code.working_dir_message], True),
            (code.entry_edit.textChanged, [code.entry_message], True),
            (code.script_radio.toggled, [code.entry_message], True),
            (args.table.itemChanged, [args.message], False),
            (args.table.model().rowsRemoved, [args.message], False),
            (env.python_edit.textChanged, [env.venv_message], False),
            (env.venv_edit.textChanged, [env.venv_message], False),
            (env.packages_group.buttonToggled, [env.venv_message, env.requirements_message, env.packages_message],
             False),
            (env.requirements_edit.textChanged, [env.requirements_message], False),
            (env.packages_edit.textChanged, [env.packages_message], False),
            (box.image_edit.textChanged, [box.image_message], False),
            (box.args_edit.textChanged, [box.image_message], False),
            (box.setup_edit.textChanged, [box.image_message], False),
            (run.queue_combo.editTextChanged, [run.queue_message], False),
            (run.output_edit.textChanged, [run.output_message], False),
        ]
        for signal, messages, code_field in fields:
            signal.connect(lambda *_a, m=messages, c=code_field: self._field_changed(m, c))
        args.detect_button.clicked.connect(self.detect_arguments)

    # ---- the spec ------------------------------------------------------------------------------------

    def version(self) -> tuple[str, str]:
        """(branch | tag | commit, the value typed)."""
        return VERSION_KINDS[self.code_page.version_kind.currentIndex()], self.code_page.version_edit.text().strip()

    def spec(self, *, run: bool = False) -> creating.ExecutionSpec:
        code, env, box, run_page = self.code_page, self.environment_page, self.container_page, self.run_page
        kind, version = self.version()
        entry = code.entry_edit.text().strip()
        is_script = code.script_radio.isChecked()
        mode = env.packages_mode()
        return creating.ExecutionSpec(
            name=code.name_edit.text().strip(),
            project=code.project_combo.currentText().strip().strip("/"),
            repository=code.repo_edit.text().strip(),
            branch=version if kind == "branch" else "",
            tag=version if kind == "tag" else "",
            commit=version if kind == "commit" else "",
            working_dir=code.working_dir_edit.text().strip() or ".",
            script=entry if is_script else "",
            module="" if is_script else entry,
            add_task_init_call=code.task_init_box.isChecked(),
            arguments=self.arguments_page.arguments(),
            python=env.python_edit.text().strip(),
            venv=env.venv_edit.text().strip(),
            packages_mode=mode,
            requirements=env.requirements()[0] if mode == PACKAGES_REQUIREMENTS else "",
            packages=env.listed_packages() if mode == PACKAGES_LISTED else [],
            container_image=box.image_edit.text().strip(),
            container_args=box.args_edit.text().strip(),
            container_setup=box.setup_edit.toPlainText(),
            output_uri=run_page.output_edit.text().strip(),
            queue=run_page.queue() if run else "",
        )

    # ---- validation -----------------------------------------------------------------------------------

    def typed_problems(self) -> dict[str, str]:
        """Problems the fields show without reading the repository: field -> message."""
        spec = self.spec()
        problems = dict(creating.validate_spec(spec, check_repository=False))
        if spec.packages_mode == PACKAGES_REQUIREMENTS:
            _text, why = self.environment_page.requirements()
            if why:
                problems["requirements"] = why
        return problems

    def problems(self) -> dict[str, str]:
        """Every known problem: typed ones, what the last repository check said, and a refused finish."""
        problems = self.typed_problems()
        for source in (self._repository_errors, self._finish_errors):
            for key, text in source.items():
                problems.setdefault(key, text)
        return problems

    def page_problems(self, page_id: int, *, typed_only: bool = False) -> dict[str, str]:
        problems = self.typed_problems() if typed_only else self.problems()
        return {k: v for k, v in problems.items() if FIELD_PAGES.get(k, PAGE_CODE) == page_id}

    def _message_for(self, field: str) -> FieldMessage:
        code, env, run = self.code_page, self.environment_page, self.run_page
        return {
            "name": code.name_message, "project": code.project_message, "task_type": code.name_message,
            "repository": code.repo_message, "branch": code.version_message, "tag": code.version_message,
            "commit": code.version_message, "version": code.version_message,
            "working_dir": code.working_dir_message, "script": code.entry_message, "module": code.entry_message,
            "arguments": self.arguments_page.message, "python": env.venv_message, "venv": env.venv_message,
            "packages_mode": env.venv_message, "requirements": env.requirements_message,
            "packages": env.packages_message, "container_image": self.container_page.image_message,
            "container_args": self.container_page.image_message,
            "container_setup": self.container_page.image_message,
            "queue": run.queue_message, "output_uri": run.output_message,
        }[field]

    def _field_changed(self, messages: list[FieldMessage], code_field: bool) -> None:
        self._touched.update(messages)
        self._finish_errors = {}
        if code_field:
            spec = self.spec()
            if self._repository_key(spec) != self._checked_spec_key:
                # What the last check said is about other input now.
                self._repository_errors, self._repository_notes = {}, {}
                self.checking = bool(spec.repository)
                self._check_timer.start()
        self._validate()

    def _validate(self) -> None:
        typed = self.typed_problems()
        problems = self.problems()
        texts: dict[FieldMessage, list[str]] = {}
        for field, text in problems.items():
            message = self._message_for(field)
            # A field's own problems wait until it is edited (or a finish is tried); the repository's show at once.
            if field in typed and message not in self._touched and not self._show_all:
                continue
            texts.setdefault(message, []).append(sentence(text))
        notes = {self._message_for(k): v for k, v in self._repository_notes.items()}
        if self.checking:
            notes.setdefault(self.code_page.repo_message, "Checking the repository…")
        for message in self.findChildren(FieldMessage):
            if message in texts:
                message.show_text(" ".join(dict.fromkeys(texts[message])), "error")
            elif message in notes:
                message.show_text(notes[message], "note")
            elif message is self.run_page.queue_message:
                self._note_queue(force=message.kind == "error")
            elif message is self.arguments_page.message and message.kind == "note":
                pass  # what Detect found stays until the next Detect
            else:
                message.show_text("")
        self._mark_steps({k: v for k, v in problems.items()
                          if k not in typed or self._message_for(k) in self._touched or self._show_all})
        page = self.currentPage()
        if page is not None:
            page.completeChanged.emit()
        self._update_buttons()

    def _note_queue(self, force: bool = False) -> None:
        name = self.run_page.queue()
        if name == self._queue_noted and not force:
            return  # asks the database: only when the queue named changes
        self._queue_noted = name
        message = self.run_page.queue_message
        if not name:
            message.show_text("Run needs a queue; Save as Draft does not.", "note")
            return
        notes = []
        if self.run_page.is_new_queue(name):
            notes.append(f'"{name}" is a new queue; Run creates it.')
        # The same live-heartbeat rule as the Workers & Queues window, so the two never disagree.
        if not queue_ops.live_workers_for_queue(name):
            notes.append(f'No worker listens to "{name}": the experiment waits as Pending until one does.')
        message.show_text(" ".join(notes), "warning" if notes else "")

    def _update_buttons(self) -> None:
        problems = self.problems()
        why = next(iter(problems.values()), "")
        if self.checking and not why:
            why = "checking the repository…"
        self.draft_button.setEnabled(not why)
        self.draft_button.setToolTip(sentence(why))
        no_queue = "" if self.run_page.queue() else "choose a queue on the Run page"
        self.run_button.setEnabled(not (why or no_queue))
        self.run_button.setToolTip(sentence(why or no_queue))

    # ---- the repository check (debounced, off the UI thread) ---------------------------------------

    def _repository_key(self, spec: creating.ExecutionSpec) -> tuple:
        return (spec.repository, spec.branch, spec.tag, spec.commit, spec.working_dir, spec.script, spec.module)

    def _start_repository_check(self) -> None:
        spec = self.spec()
        key = self._repository_key(spec)
        typed = self.typed_problems()
        # A repository check is only worth it once the fields it reads are well formed.
        if not spec.repository or set(typed) & {"repository", "branch", "tag", "commit", "working_dir"}:
            self.checking = False
            self._checked_spec_key = None
            self._validate()
            return
        self._check_generation += 1
        generation = self._check_generation
        self.checking = True
        self._validate()
        BackgroundCall.start_call(lambda: check_repository(spec), self._on_repository_checked, (generation, key))

    def _on_repository_checked(self, result: RepositoryCheck | None, error: str, token: tuple) -> None:
        generation, key = token
        if generation != self._check_generation:
            return  # the fields changed while it ran; a newer check follows
        self.checking = False
        self._checked_spec_key = key
        if error:
            self._repository_errors, self._repository_notes = {"repository": error}, {}
        else:
            self._repository_errors, self._repository_notes = result.errors, result.notes
        self._validate()

    def wait_until_checked(self, timeout_ms: int = 20000) -> None:
        """Start a pending repository check now and wait for its answer."""
        if self._check_timer.isActive():
            self._check_timer.stop()
            self._start_repository_check()
        clock = QElapsedTimer()
        clock.start()
        while self.checking and clock.elapsed() < timeout_ms:
            wait_for_checks(50)
            QCoreApplication.processEvents()

    # ---- Detect ----------------------------------------------------------------------------------------

    def detect_arguments(self) -> None:
        spec = self.spec()
        message = self.arguments_page.message
        typed = self.typed_problems()
        missing = [f for f in ("repository", "script", "module", "branch", "tag", "commit", "working_dir") if f in typed]
        if missing:
            message.show_text(f"Detect reads the entry point: first fix it on the Code page "
                              f"({sentence(typed[missing[0]])})", "error")
            return
        message.show_text("Reading the entry point…", "note")
        self.arguments_page.detect_button.setEnabled(False)
        BackgroundCall.start_call(lambda: detect_in(spec), self._on_detected)

    def _on_detected(self, found: list[creating.DetectedArgument] | None, error: str, _token=None) -> None:
        page = self.arguments_page
        page.detect_button.setEnabled(True)
        if error:
            page.message.show_text(f"Could not read the arguments: {sentence(error)}", "error")
            return
        added = page.add_detected(found or [])
        if not found:
            page.message.show_text("The entry point declares no argparse arguments.", "note")
        else:
            kept = len(found) - added
            page.message.show_text(f"Found {len(found)} argument{'s' if len(found) != 1 else ''}"
                                   + (f"; {kept} already in the table kept their values." if kept else "."), "note")
        self._validate()

    # ---- finishing ----------------------------------------------------------------------------------------

    def finish(self, run: bool) -> str | None:
        """Create the experiment, enqueued with ``run``; its id, or None (the problem is shown at its field)."""
        self.wait_until_checked()
        self._show_all = True
        problems = self.problems()
        if run and not self.run_page.queue():
            problems.setdefault("queue", "choose a queue to run in, or Save as Draft")
        if not problems:
            try:
                exp_id = creating.create_from_spec(self.spec(run=run))
            except creating.SpecError as exc:
                problems = exc.errors
            except (ActionError, StoreError) as exc:
                problems = {"queue" if run else "name": str(exc)}
        if problems:
            self._finish_errors = {k: v for k, v in problems.items() if k in FIELD_PAGES}
            self._validate()
            self._go_to(min(FIELD_PAGES.get(k, PAGE_CODE) for k in problems))
            return None
        if run:
            preferences.remember_queue(self.run_page.queue())
        self.created_id, self.enqueued = exp_id, run
        self.sig_created.emit(exp_id, run)
        self.accept()
        return exp_id

    def accept(self) -> None:
        # Only the two finish buttons end the wizard well (Enter on a last page must not drop the input).
        if self.created_id is not None:
            super().accept()

    def _go_to(self, page_id: int) -> None:
        while self.currentId() > page_id:
            self.back()
        while self.currentId() < page_id:
            before = self.currentId()
            self.next()
            if self.currentId() == before:
                break


def open_new_experiment(window) -> NewExperimentWizard:
    """Show the wizard over the main window, for its current project; the new experiment is selected
    in the table when it is made."""
    open_already = [w for w in window.findChildren(NewExperimentWizard) if w.isVisible()]
    if open_already:
        open_already[0].raise_()
        open_already[0].activateWindow()
        return open_already[0]
    wizard = NewExperimentWizard(window, window.current_project_path())
    wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

    def created(exp_id: str, enqueued: bool) -> None:
        window.refresh_now()
        window.select_experiment(exp_id)
        name = wizard.code_page.name_edit.text().strip()
        window.show_message(f'"{name}" enqueued to "{wizard.run_page.queue()}"' if enqueued
                            else f'"{name}" saved as a Draft')
    wizard.sig_created.connect(created)
    wizard.show()
    return wizard
