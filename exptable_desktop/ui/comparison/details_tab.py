"""The compare page's DETAILS tab, and the aligned diff table it shares with HYPERPARAMETERS.

Rows are fields (section rows between them), columns are experiments, the base
on the left (feature inventory 4.5). The field names sit in a view of their own
left of the values, so they stay put while 100 experiment columns scroll by.
Dragging a column header reorders the experiments; dropping one leftmost, or
"Set as base" in the header's menu, makes it the base every cell is compared to.
"""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QIcon, QKeySequence, QPainter, QPalette, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import compare_diff as cd
from exptable_desktop.core.compare_export import write_diff_csv
from exptable_desktop.core.compare_palette import ComparedExperiment
from exptable_desktop.ui.comparison.export import export_button
from exptable_desktop.ui.palette import themed

SECTION_BACKGROUND = QColor(themed("$surface_alt"))
DIFF_BACKGROUND = QColor(themed("$difference"))
DIFF_LABEL_BACKGROUND = QColor(themed("$warning_soft"))
MATCH_BACKGROUND = QColor(themed("$accent_soft"))
CURRENT_MATCH_BACKGROUND = QColor(themed("$match_current"))
ABSENT_FOREGROUND = QColor(themed("$text_muted"))
HIDDEN_FOREGROUND = QColor(themed("$text_muted"))
SECTION_FOREGROUND = QColor(themed("$text_secondary"))
ABSENT_TEXT = "–"
BASE_PREFIX = "BASE · "
VALUE_COLUMN_WIDTH = 200
# Past this many experiments the columns narrow a little, so more fit on screen.
MANY_EXPERIMENTS = 10
NARROW_VALUE_COLUMN_WIDTH = 170
NAME_COLUMN_WIDTH = 240
NAME_COLUMN_MIN_WIDTH = 160
NAME_COLUMN_MAX_WIDTH = 350
HEADER_HEIGHT = 30

DiffRole = Qt.ItemDataRole.UserRole + 1
KindRole = Qt.ItemDataRole.UserRole + 2
ExperimentIdRole = Qt.ItemDataRole.UserRole + 3


def colour_icon(colour: str, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(colour))
    painter.setPen(QColor(colour).darker(130))
    painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    painter.end()
    return QIcon(pixmap)


class DiffModel(QAbstractTableModel):
    """Column 0: the field's name; column 1 + n: the n-th experiment (the base is n = 0)."""

    def __init__(self, field_title: str = "FIELD", parent=None):
        super().__init__(parent)
        self.field_title = field_title
        self._experiments: list[ComparedExperiment] = []
        self._records: dict[str, cd.Record] = {}
        self._all_rows: list[cd.DiffRow] = []
        self._rows: list[cd.DiffRow] = []
        self._hide_identical = False
        self._matches: set[tuple[int, int]] = set()
        self._current_match: tuple[int, int] | None = None
        self._icons: dict[str, QIcon] = {}

    # -- Data ------------------------------------------------------------------------------
    def set_comparison(self, experiments: list[ComparedExperiment], records: dict[str, cd.Record]) -> None:
        """The experiments in display order (base first) and their records."""
        self.beginResetModel()
        self._experiments = [e for e in experiments if e.id in records]
        self._records = records
        self._icons = {}
        self._rebuild()
        self.endResetModel()

    def set_experiment_looks(self, experiments: list[ComparedExperiment]) -> None:
        """New colours, names or hidden flags for the same experiments: only the headers change."""
        by_id = {e.id: e for e in experiments}
        self._experiments = [by_id.get(e.id, e) for e in self._experiments]
        self._icons = {}
        if self._experiments:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 1, len(self._experiments))
            if self._rows:
                self.dataChanged.emit(self.index(0, 1), self.index(len(self._rows) - 1, len(self._experiments)))

    def set_order(self, ids: list[str]) -> None:
        """Reorder the experiments; ``ids[0]`` becomes the base."""
        by_id = {e.id: e for e in self._experiments}
        order = [by_id[i] for i in ids if i in by_id]
        order += [e for e in self._experiments if e.id not in set(ids)]
        if [e.id for e in order] == self.experiment_ids():
            return
        self.beginResetModel()
        self._experiments = order
        self._rebuild()
        self.endResetModel()

    def set_hide_identical(self, on: bool) -> None:
        if on == self._hide_identical:
            return
        self.beginResetModel()
        self._hide_identical = on
        self._rows = cd.visible_rows(self._all_rows, on)
        self._matches.clear()
        self._current_match = None
        self.endResetModel()

    def _rebuild(self) -> None:
        self._all_rows = cd.compare_rows([self._records[e.id] for e in self._experiments])
        self._rows = cd.visible_rows(self._all_rows, self._hide_identical)
        self._matches.clear()
        self._current_match = None

    def experiments(self) -> list[ComparedExperiment]:
        return list(self._experiments)

    def experiment_ids(self) -> list[str]:
        return [e.id for e in self._experiments]

    def base_id(self) -> str | None:
        return self._experiments[0].id if self._experiments else None

    def rows(self) -> list[cd.DiffRow]:
        """The rows shown (without identical ones when hidden)."""
        return list(self._rows)

    def all_rows(self) -> list[cd.DiffRow]:
        return list(self._all_rows)

    def row(self, row: int) -> cd.DiffRow:
        return self._rows[row]

    def hides_identical(self) -> bool:
        return self._hide_identical

    def difference_rows(self) -> list[int]:
        return [n for n, r in enumerate(self._rows) if r.kind != cd.SECTION and r.any_differs]

    # -- Search highlighting ---------------------------------------------------------------
    def set_matches(self, matches: list[tuple[int, int]], current: tuple[int, int] | None) -> None:
        """Cells to highlight, as (row, model column)."""
        self._matches = set(matches)
        self._current_match = current
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self._experiments)),
                                  [Qt.ItemDataRole.BackgroundRole])

    # -- Qt model --------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else 1 + len(self._experiments)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if not (0 <= column <= len(self._experiments)):
            return None
        section = row.kind == cd.SECTION
        value = None if column == 0 else row.values[column - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                if section and row.diff_count:
                    return f"{row.label}   ({row.diff_count} differ{'s' if row.diff_count == 1 else ''})"
                return row.label
            if section:
                return ""
            return ABSENT_TEXT if value is None else value
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 0:
                return row.label or None
            if section:
                return None
            experiment = self._experiments[column - 1]
            shown = "(not set)" if value is None else (value or "(empty)")
            return f"{experiment.name}\n{shown}"
        if role == Qt.ItemDataRole.BackgroundRole:
            if (index.row(), column) == self._current_match:
                return QBrush(CURRENT_MATCH_BACKGROUND)
            if (index.row(), column) in self._matches:
                return QBrush(MATCH_BACKGROUND)
            if section:
                return QBrush(SECTION_BACKGROUND)
            if column == 0:
                return QBrush(DIFF_LABEL_BACKGROUND) if row.any_differs else None
            return QBrush(DIFF_BACKGROUND) if row.differs[column - 1] else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if section:
                return QBrush(SECTION_FOREGROUND)
            if column > 0 and (value is None or self._experiments[column - 1].hidden):
                return QBrush(ABSENT_FOREGROUND if value is None else HIDDEN_FOREGROUND)
            return None
        if role == Qt.ItemDataRole.FontRole and section:
            font = QFont()
            font.setBold(True)
            return font
        if role == DiffRole:
            return row.any_differs if column == 0 else (False if section else row.differs[column - 1])
        if role == KindRole:
            return row.kind
        if role == ExperimentIdRole and column > 0:
            return self._experiments[column - 1].id
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return str(section + 1)
            return None
        if not (0 <= section <= len(self._experiments)):
            return None
        if section == 0:
            return self.field_title if role == Qt.ItemDataRole.DisplayRole else None
        experiment = self._experiments[section - 1]
        base = section == 1
        if role == Qt.ItemDataRole.DisplayRole:
            return (BASE_PREFIX if base else "") + experiment.name
        if role == Qt.ItemDataRole.DecorationRole:
            if experiment.id not in self._icons:
                self._icons[experiment.id] = colour_icon(experiment.colour)
            return self._icons[experiment.id]
        if role == Qt.ItemDataRole.ToolTipRole:
            what = "The base: every value is compared to this experiment's." if base else \
                "Right-click: set as base. Drag the header to reorder."
            return f"{experiment.name}\n{experiment.id}\n{what}"
        if role == Qt.ItemDataRole.FontRole and base:
            font = QFont()
            font.setBold(True)
            return font
        if role == ExperimentIdRole:
            return experiment.id
        return None

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class DiffTable(QWidget):
    """The diff model in two views (names fixed on the left, values scrolling), with the
    tools: search with match navigation, previous/next difference, hide identical."""

    sig_order_changed = Signal(list)  # experiment ids, base first

    def __init__(self, field_title: str = "FIELD", parent=None):
        super().__init__(parent)
        self.model = DiffModel(field_title, self)
        self._matches: list[tuple[int, int]] = []
        self._match_index = -1

        self.search_box = QLineEdit()
        self.search_box.setObjectName("compareDiffSearch")
        self.search_box.setPlaceholderText("Search names and values")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setMinimumWidth(200)
        self.search_box.setMaximumWidth(320)
        self.match_label = QLabel()
        self.match_label.setMinimumWidth(70)
        self.prev_match_button = self._tool_button("▲", "Previous match (Shift+Enter)", self.previous_match)
        self.next_match_button = self._tool_button("▼", "Next match (Enter)", self.next_match)
        self.prev_diff_button = self._tool_button("◀ Previous difference", "Previous differing row (Alt+Up)",
                                                  self.previous_difference)
        self.next_diff_button = self._tool_button("Next difference ▶", "Next differing row (Alt+Down)",
                                                  self.next_difference)
        self.diff_label = QLabel()
        self.diff_label.setObjectName("compareDiffCount")
        self.hide_check = QCheckBox("Hide identical")
        self.hide_check.setObjectName("compareHideIdentical")

        self.bar = QHBoxLayout()
        self.bar.setContentsMargins(8, 6, 8, 6)
        self.bar.setSpacing(6)
        self.bar.addWidget(self.search_box)
        self.bar.addWidget(self.prev_match_button)
        self.bar.addWidget(self.next_match_button)
        self.bar.addWidget(self.match_label)
        self.bar.addSpacing(12)
        self.bar.addWidget(self.prev_diff_button)
        self.bar.addWidget(self.next_diff_button)
        self.bar.addWidget(self.diff_label)
        self.bar.addSpacing(12)
        self.bar.addWidget(self.hide_check)
        self.bar.addStretch(1)

        self.names_view = QTableView()
        self.names_view.setObjectName("compareDiffNames")
        self.values_view = QTableView()
        self.values_view.setObjectName("compareDiffValues")
        for view in (self.names_view, self.values_view):
            view.setModel(self.model)
            view.verticalHeader().hide()
            view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
            view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
            view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
            view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
            view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
            view.setWordWrap(False)
            view.setTextElideMode(Qt.TextElideMode.ElideRight)
            view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            # Both keep a horizontal bar so their viewports are equally tall and rows stay level.
            view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
            header = view.horizontalHeader()
            header.setFixedHeight(HEADER_HEIGHT)
            header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            header.setHighlightSections(False)
            # The current row in a light tint, as the experiments table: strong blue would hide the diff colours.
            palette = view.palette()
            palette.setColor(QPalette.ColorRole.Highlight, QColor(themed("$accent_soft")))
            palette.setColor(QPalette.ColorRole.HighlightedText, QColor(themed("$text")))
            view.setPalette(palette)
        self.values_view.setSelectionModel(self.names_view.selectionModel())
        self.names_view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.names_view.horizontalHeader().setStretchLastSection(True)
        values_header = self.values_view.horizontalHeader()
        values_header.setDefaultSectionSize(VALUE_COLUMN_WIDTH)
        values_header.setMinimumSectionSize(60)
        values_header.setSectionsMovable(True)
        values_header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        values_header.customContextMenuRequested.connect(self._header_menu)
        values_header.sectionMoved.connect(self._section_moved)
        self.values_view.verticalScrollBar().valueChanged.connect(self.names_view.verticalScrollBar().setValue)
        self.names_view.verticalScrollBar().valueChanged.connect(self.values_view.verticalScrollBar().setValue)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.names_view)
        self.splitter.addWidget(self.values_view)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([NAME_COLUMN_WIDTH, 900])
        self.names_view.setMinimumWidth(120)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self.bar)
        layout.addWidget(self.splitter, 1)

        self.model.modelReset.connect(self._after_reset)
        self.search_box.textChanged.connect(self._search_changed)
        self.search_box.returnPressed.connect(self.next_match)
        self.hide_check.toggled.connect(self.hide_identical)
        # Scoped to this table: the DETAILS and HYPERPARAMETERS tables live in one window, and two
        # window-wide shortcuts with the same keys would both stay silent as ambiguous.
        for keys, parent, slot in (("Shift+Return", self.search_box, self.previous_match),
                                   ("Alt+Down", self, self.next_difference),
                                   ("Alt+Up", self, self.previous_difference)):
            shortcut = QShortcut(QKeySequence(keys), parent, slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._after_reset()

    @staticmethod
    def _tool_button(text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    # -- Data ------------------------------------------------------------------------------
    def set_comparison(self, experiments: list[ComparedExperiment], records: dict[str, cd.Record]) -> None:
        """Experiments in page order (the first is the base) and their records."""
        self.model.set_comparison(list(experiments), records)
        self._fit_names_width()  # on new data only: a width the user dragged survives reorders

    def set_experiment_looks(self, experiments: list[ComparedExperiment]) -> None:
        """The same experiments again, perhaps reordered (the page's order wins), recoloured or hidden."""
        self.model.set_order([e.id for e in experiments])
        self.model.set_experiment_looks(experiments)

    def hide_identical(self, on: bool) -> None:
        if self.hide_check.isChecked() != on:
            self.hide_check.setChecked(on)  # comes back here through toggled
            return
        self.model.set_hide_identical(on)

    def set_base(self, exp_id: str) -> None:
        ids = self.model.experiment_ids()
        if exp_id not in ids or ids[0] == exp_id:
            return
        self.set_order([exp_id] + [i for i in ids if i != exp_id])

    def set_order(self, ids: list[str]) -> None:
        before = self.model.experiment_ids()
        self.model.set_order(ids)
        if self.model.experiment_ids() != before:
            self.sig_order_changed.emit(self.model.experiment_ids())

    def base_id(self) -> str | None:
        return self.model.base_id()

    # -- Reordering ------------------------------------------------------------------------
    def _section_moved(self, _logical: int, _old: int, _new: int) -> None:
        header = self.values_view.horizontalHeader()
        ids = self.model.experiment_ids()
        visual = sorted(range(1, header.count()), key=header.visualIndex)
        new_order = [ids[logical - 1] for logical in visual]
        self._reset_header_order()
        self.set_order(new_order)

    def _reset_header_order(self) -> None:
        header = self.values_view.horizontalHeader()
        blocked = header.blockSignals(True)
        for logical in range(header.count()):
            if header.visualIndex(logical) != logical:
                header.moveSection(header.visualIndex(logical), logical)
        header.blockSignals(blocked)

    def _header_menu(self, pos) -> None:
        header = self.values_view.horizontalHeader()
        logical = header.logicalIndexAt(pos)
        if logical < 1:
            return
        exp_id = self.model.experiment_ids()[logical - 1]
        menu = QMenu(self)
        base = menu.addAction("Set as base", lambda: self.set_base(exp_id))
        base.setEnabled(logical != 1)
        ids = self.model.experiment_ids()
        n = logical - 1
        left = menu.addAction("Move left", lambda: self.set_order(ids[:n - 1] + [ids[n], ids[n - 1]] + ids[n + 1:]))
        left.setEnabled(n > 0)
        right = menu.addAction("Move right",
                               lambda: self.set_order(ids[:n] + [ids[n + 1], ids[n]] + ids[n + 2:]))
        right.setEnabled(n < len(ids) - 1)
        menu.exec(header.mapToGlobal(pos))

    # -- Navigation ------------------------------------------------------------------------
    def current_row(self) -> int:
        index = self.values_view.currentIndex()
        return index.row() if index.isValid() else -1

    def go_to(self, row: int, column: int | None = None) -> None:
        """Make ``row`` current and scroll it (and ``column``, else its first differing cell) into view."""
        if not (0 <= row < self.model.rowCount()):
            return
        diff_row = self.model.row(row)
        if column is None:
            column = next((c + 1 for c, d in enumerate(diff_row.differs) if d), 1)
        column = min(max(column, 0), self.model.columnCount() - 1)
        index = self.model.index(row, column)
        selection = self.names_view.selectionModel()
        selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)
        if column >= 1:
            self.values_view.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
        else:
            self.values_view.scrollTo(self.model.index(row, 1), QAbstractItemView.ScrollHint.EnsureVisible)
        self.names_view.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.EnsureVisible)

    def next_difference(self) -> int:
        """Go to the next differing row (wrapping); returns it, -1 when nothing differs."""
        rows = self.model.difference_rows()
        if not rows:
            return -1
        current = self.current_row()
        target = next((r for r in rows if r > current), rows[0])
        self.go_to(target)
        return target

    def previous_difference(self) -> int:
        rows = self.model.difference_rows()
        if not rows:
            return -1
        current = self.current_row()
        target = next((r for r in reversed(rows) if r < current), rows[-1]) if current >= 0 else rows[-1]
        self.go_to(target)
        return target

    # -- Search ----------------------------------------------------------------------------
    def _search_changed(self) -> None:
        found = cd.search_matches(self.model.rows(), self.search_box.text())
        self._matches = [(r, c + 1) for r, c in found]
        self._match_index = -1
        self.model.set_matches(self._matches, None)
        if self._matches:
            self._step_match(1)
        self._update_labels()

    def matches(self) -> list[tuple[int, int]]:
        """(row, model column) of the cells the search finds; column 0 is the field's name."""
        return list(self._matches)

    def current_match(self) -> tuple[int, int] | None:
        return self._matches[self._match_index] if 0 <= self._match_index < len(self._matches) else None

    def next_match(self) -> None:
        self._step_match(1)

    def previous_match(self) -> None:
        self._step_match(-1)

    def _step_match(self, step: int) -> None:
        if not self._matches:
            return
        self._match_index = (self._match_index + step) % len(self._matches)
        row, column = self._matches[self._match_index]
        self.model.set_matches(self._matches, (row, column))
        self.go_to(row, column)
        self._update_labels()

    # -- Labels ----------------------------------------------------------------------------
    def _after_reset(self) -> None:
        self._reset_header_order()
        columns = self.model.columnCount()
        width = VALUE_COLUMN_WIDTH if columns - 1 <= MANY_EXPERIMENTS else NARROW_VALUE_COLUMN_WIDTH
        self.values_view.horizontalHeader().setDefaultSectionSize(width)
        for column in range(columns):
            self.names_view.setColumnHidden(column, column != 0)
            self.values_view.setColumnHidden(column, column == 0)
        if self.search_box.text().strip():
            self._search_changed()
        else:
            self._matches, self._match_index = [], -1
        self._update_labels()

    def _fit_names_width(self) -> None:
        """Wide enough for the section titles and field names, within limits; long ones elide."""
        bold = QFont(self.names_view.font())
        bold.setBold(True)
        plain = self.names_view.fontMetrics()
        bold_metrics = QFontMetrics(bold)
        widest = 0
        for row in self.model.all_rows():
            if row.kind == cd.SECTION:
                text = row.label + "   (99 differ)"
                widest = max(widest, bold_metrics.horizontalAdvance(text))
            elif row.label:
                widest = max(widest, plain.horizontalAdvance(row.label))
        width = min(max(widest + 24, NAME_COLUMN_MIN_WIDTH), NAME_COLUMN_MAX_WIDTH)
        sizes = self.splitter.sizes()
        total = sum(sizes) if sum(sizes) > 0 else width + 900
        self.splitter.setSizes([width, max(total - width, 100)])

    def _update_labels(self) -> None:
        diffs = sum(1 for r in self.model.all_rows() if r.kind != cd.SECTION and r.any_differs)
        self.diff_label.setText(f"{diffs} differing row{'' if diffs == 1 else 's'}")
        has = bool(self.model.difference_rows())
        self.prev_diff_button.setEnabled(has)
        self.next_diff_button.setEnabled(has)
        if self.search_box.text().strip():
            total = len(self._matches)
            self.match_label.setText(f"{self._match_index + 1} of {total}" if total else "no match")
        else:
            self.match_label.setText("")
        self.prev_match_button.setEnabled(len(self._matches) > 1)
        self.next_match_button.setEnabled(len(self._matches) > 1)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(1000, 600)


class DetailsTab(QWidget):
    """DETAILS: execution, artifacts and models, configuration objects, general info and tags, aligned."""

    sig_order_changed = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("compareDetailsTab")
        self._experiments: list[ComparedExperiment] = []
        self._loaded_ids: list[str] = []
        self.table = DiffTable("FIELD")
        # The page's header has the one "Hide identical" toggle for every tab.
        self.table.hide_check.hide()
        self.table.sig_order_changed.connect(self.sig_order_changed)
        self.export_button = export_button(
            self, [("Details as CSV…", "details.csv", self.write_csv)], self.experiments,
            self.table.model.hides_identical)
        self.table.bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)

    def set_experiments(self, experiments: list[ComparedExperiment]) -> None:
        ids = [e.id for e in experiments]
        self._experiments = list(experiments)
        if sorted(ids) == sorted(self._loaded_ids):
            # Same experiments: colours, names, hidden flags or the page's order changed; nothing to read.
            self.table.set_experiment_looks(self._experiments)
            return
        self.refresh()

    def refresh(self) -> None:
        self._loaded_ids = [e.id for e in self._experiments]
        self.table.set_comparison(self._experiments, cd.load_details(self._loaded_ids))

    def hide_identical(self, on: bool) -> None:
        self.table.hide_identical(on)

    def set_base(self, exp_id: str) -> None:
        self.table.set_base(exp_id)

    def experiments(self) -> list[ComparedExperiment]:
        """In page order (not the tab's column order)."""
        return list(self._experiments)

    def write_csv(self, out) -> int:
        """The rows shown (identical ones left out when hidden), columns in the tab's order."""
        return write_diff_csv(out, self.table.model.experiments(), self.table.model.rows())
