"""The experiments table widget: header with funnels and multi-sort marks, cell painting,
a row selection kept per slot (ui.table_selection) and column widths fitted to the table."""
from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionHeader,
    QStyleOptionViewItem,
    QTableView,
)

from exptable_desktop.core import columns as C
from exptable_desktop.core import states as st
from exptable_desktop.core.stars import STAR_KEY
from exptable_desktop.ui import icons, palette
from exptable_desktop.ui.roles import IdRole, TagsRole
from exptable_desktop.ui.table_model import CHECKED_ROW_TINT
from exptable_desktop.ui.table_selection import SlotSelectionModel

ROW_HEIGHT = 30
FUNNEL_SIZE = 14
HEADER_HEIGHT = 32
ACCENT = palette.current().colour("accent_strong")
PROGRESS_COLOURS = {state: QColor(palette.STATE_COLOURS[state]) for state in (st.RUNNING, st.FAILED, st.ABORTED)}
# Flag values combined once: Python-level enum arithmetic per painted cell is measurable.
_SELECTED = QStyle.StateFlag.State_Selected
_ALTERNATE = QStyleOptionViewItem.ViewItemFeature.Alternate
_TEXT = QPalette.ColorRole.Text
_HIGHLIGHTED_TEXT = QPalette.ColorRole.HighlightedText
_LEFT_MIDDLE = int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
# Drawn cells kept for copying (a few screens of distinct looks); past this the cache starts afresh.
MAX_CACHED_CELLS = 2000
# A selection change of more ranges than this repaints the whole viewport (see selectionChanged).
MANY_SELECTION_RANGES = 256
# Rows beyond those on screen that Qt's own selection mirrors (see SlotSelectionModel.window).
SELECTION_WINDOW_MARGIN = 2
# Column fitting: NAME's reference width (it takes more when the table has room to spare, less,
# down to NAME_MIN_WIDTH, when the table is narrower than twice that), the widest any other column
# is fitted to, and the rows measured when none are on screen yet.
NAME_REFERENCE_WIDTH = 400
NAME_MIN_WIDTH = 200
FITTED_MAX_WIDTH = 240
FIT_SAMPLE_ROWS = 40
# A column of more distinct values than this (a seed, a path) is measured on the rows on screen instead.
FIT_MAX_LABELS = 500
# The longest relative times (core.formatting.relative_time): date columns are fitted to these, not
# to the rows on screen, so "a few seconds ago" is never cut when a refresh brings it.
DATE_SAMPLES = ("a few seconds ago", "44 minutes ago", "21 hours ago", "25 days ago", "10 months ago")
CELL_PADDING = 20
# What CellDelegate._paint_cell takes beside a TYPE or STATUS label: the 8 px left margin, the 16 px
# icon and its gap (22), the 6 px right margin and the 6 px before the text's end; and STATUS's
# progress bar (44) with room to spare; plus 2 px because elidedText measures fractional advances
# and elides a text exactly its integer horizontalAdvance wide. Less than this and the widest label
# is elided.
ICON_CELL_EXTRA = 8 + 22 + 6 + 6 + 2
PROGRESS_EXTRA = 50
# Every label a TYPE or STATUS cell can show, not only those of the rows loaded so far: a refresh
# that brings the first "Data Processing" experiment finds the column already wide enough.
KNOWN_LABELS = {C.TYPE: tuple(st.type_label(t) for t in st.TASK_TYPES),
                C.STATUS: tuple(dict.fromkeys(st.STATUS_LABELS.values()))}


class FilterHeader(QHeaderView):
    """Horizontal header that draws a funnel in filterable sections and numbered sort arrows."""

    sig_filter_clicked = Signal(int, QRect)  # logical index, funnel rect in global coordinates
    sig_sort_clicked = Signal(int, bool)  # logical index, shift held (add a secondary sort)
    sig_fit_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setSectionsMovable(True)
        self.setSectionsClickable(True)
        self.setHighlightSections(False)
        self.setSortIndicatorShown(False)
        self.setStretchLastSection(False)
        self.setMinimumSectionSize(24)
        self.setFixedHeight(HEADER_HEIGHT)
        self.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.active_filters: set[str] = set()
        self._press_pos: QPoint | None = None
        self.sectionClicked.connect(self._on_clicked)
        self.sectionHandleDoubleClicked.connect(self.sig_fit_requested)

    @property
    def sort_keys(self) -> list[tuple[str, bool]]:
        """The model's sort, (key, descending) per level: numbered marks in the header."""
        model = self.model()
        return model.sort_keys() if hasattr(model, "sort_keys") else []

    def setModel(self, model) -> None:
        old = self.model()
        if old is not None and hasattr(old, "sort_keys"):
            old.headerDataChanged.disconnect(self.sync_sort_indicator)
            old.modelReset.disconnect(self.sync_sort_indicator)
        super().setModel(model)
        if model is not None and hasattr(model, "sort_keys"):
            model.headerDataChanged.connect(self.sync_sort_indicator)
            model.modelReset.connect(self.sync_sort_indicator)
        self.sync_sort_indicator()

    def sync_sort_indicator(self, *_args) -> None:
        """Point Qt's sort indicator (what a click flips, and sortByColumn reads) at the first sorted
        column, without asking the model to sort again."""
        model = self.model()
        specs = getattr(model, "specs", None)
        if specs is None:
            return
        column, descending = -1, True
        sortable = {spec.key: logical for logical, spec in enumerate(specs) if spec.sortable}
        for key, key_descending in self.sort_keys:
            if key in sortable:  # "Starred first" comes before, without a header of its own
                column, descending = sortable[key], key_descending
                break
        blocked = self.blockSignals(True)
        try:
            self.setSortIndicator(column, Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder)
        finally:
            self.blockSignals(blocked)
        self.viewport().update()

    def _spec(self, logical: int) -> C.ColumnSpec | None:
        model = self.model()
        specs = getattr(model, "specs", None)
        if specs is None or not 0 <= logical < len(specs):
            return None
        return specs[logical]

    def funnel_rect(self, logical: int) -> QRect:
        spec = self._spec(logical)
        if spec is None or not spec.filter_kind:
            return QRect()
        x = self.sectionViewportPosition(logical) + self.sectionSize(logical) - FUNNEL_SIZE - 8
        return QRect(x, (self.height() - FUNNEL_SIZE) // 2, FUNNEL_SIZE, FUNNEL_SIZE)

    def paintSection(self, painter: QPainter, rect: QRect, logical: int) -> None:
        spec = self._spec(logical)
        opt = QStyleOptionHeader()
        self.initStyleOption(opt)
        opt.rect = rect
        opt.section = logical
        opt.text = ""
        painter.save()
        self.style().drawControl(QStyle.ControlElement.CE_HeaderSection, opt, painter, self)
        painter.restore()
        if spec is None:
            return
        right = rect.right() - 6
        if spec.filter_kind:
            active = spec.key in self.active_filters
            funnel = QRect(right - FUNNEL_SIZE - 2, rect.center().y() - FUNNEL_SIZE // 2, FUNNEL_SIZE, FUNNEL_SIZE)
            painter.drawPixmap(funnel, icons.pixmap("funnel-active" if active else "funnel", FUNNEL_SIZE,
                                                     self.devicePixelRatioF()))
            right = funnel.left() - 4
        sort_pos = next((i for i, (k, _) in enumerate(self.sort_keys) if k == spec.key), None)
        painter.save()
        if sort_pos is not None:
            descending = self.sort_keys[sort_pos][1]
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            cx, cy = right - 5, rect.center().y()
            path = QPainterPath()
            if descending:
                path.moveTo(cx - 4, cy - 2); path.lineTo(cx + 4, cy - 2); path.lineTo(cx, cy + 3)
            else:
                path.moveTo(cx - 4, cy + 2); path.lineTo(cx + 4, cy + 2); path.lineTo(cx, cy - 3)
            path.closeSubpath()
            painter.fillPath(path, ACCENT)
            right = cx - 7
            if len(self.sort_keys) > 1:
                small = QFont(self.font())
                small.setPointSizeF(max(6.0, small.pointSizeF() - 2))
                painter.setFont(small)
                painter.setPen(ACCENT)
                painter.drawText(QRect(cx + 3, rect.top() + 2, 10, 10), Qt.AlignmentFlag.AlignLeft, str(sort_pos + 1))
        font = self.title_font()
        painter.setFont(font)
        painter.setPen(self.palette().color(self.foregroundRole()))
        text_rect = QRect(rect.left() + 8, rect.top(), max(0, right - rect.left() - 10), rect.height())
        text = QFontMetrics(font).elidedText(spec.title, Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text)
        painter.restore()

    def mousePressEvent(self, event):
        pos = event.position().toPoint()
        logical = self.logicalIndexAt(pos)
        self._press_pos = pos if event.button() == Qt.MouseButton.LeftButton else None
        if event.button() == Qt.MouseButton.LeftButton and logical >= 0:
            rect = self.funnel_rect(logical)
            if rect.isValid() and rect.adjusted(-3, -3, 3, 3).contains(pos):
                global_rect = QRect(self.mapToGlobal(rect.bottomLeft()), rect.size())
                self._press_pos = None
                self.sig_filter_clicked.emit(logical, global_rect)
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event):
        pos = event.position().toPoint()
        logical = self.logicalIndexAt(pos)
        spec = self._spec(logical)
        pressed, self._press_pos = self._press_pos, None
        clicked = (event.button() == Qt.MouseButton.LeftButton and pressed is not None and spec is not None
                   and (pos - pressed).manhattanLength() < QGuiApplication.styleHints().startDragDistance()
                   and self.cursor().shape() != Qt.CursorShape.SplitHCursor and logical == self.logicalIndexAt(pressed))
        if clicked and spec.sortable and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            # Shift+click adds (or flips) a sort level: Qt's own handling would flip its indicator and,
            # with sorting enabled, sort by this column alone.
            blocked = self.blockSignals(True)
            try:
                super().mouseReleaseEvent(event)
            finally:
                self.blockSignals(blocked)
            self.sync_sort_indicator()
            self.sig_sort_clicked.emit(logical, True)
            return
        super().mouseReleaseEvent(event)
        if clicked and not spec.sortable:
            self.sync_sort_indicator()  # Qt moved its indicator to a column that does not sort

    def _on_clicked(self, logical: int) -> None:
        # With sorting enabled the view sorts through the model's sort() (Qt's indicator); without, here.
        spec = self._spec(logical)
        if spec is not None and spec.sortable and not self.isSortIndicatorShown():
            shift = bool(QGuiApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier)
            self.sig_sort_clicked.emit(logical, shift)

    def sectionSizeFromContents(self, logical: int) -> QSize:
        spec = self._spec(logical)
        if spec is None:
            return super().sectionSizeFromContents(logical)
        # The room paintSection gives the title: margins, then the funnel and the sort mark.
        width = QFontMetrics(self.title_font()).horizontalAdvance(spec.title) + 18
        if spec.filter_kind:
            width += FUNNEL_SIZE + 8
        if spec.sortable:
            width += 12
        return QSize(width, HEADER_HEIGHT)

    def sizeHint(self) -> QSize:
        # The height is fixed: Qt's own answer asks sectionSizeFromContents of every section,
        # which the table does at each relayout (every refresh that moves rows).
        return QSize(self.length(), HEADER_HEIGHT)

    def title_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        return font


class CellDelegate(QStyledItemDelegate):
    """Paints TYPE (icon + label), STATUS (icon + label + progress) and TAGS (chips).

    It reads the cell straight from the table model (``paint_values``) and fills the
    row background itself (the checked rows' tint too): going through index.data() and
    the style's item drawing for each cell cost more than everything else in a repaint.
    """

    PAINTED_KINDS = frozenset({C.TYPE, C.STATUS, C.TAGS})

    def __init__(self, parent=None):
        super().__init__(parent)
        self._chip_fonts: dict[str, tuple[QFont, QFontMetrics]] = {}
        self._cells: dict[tuple, QPixmap] = {}
        self._seen: set[tuple] = set()  # looks drawn once, not cached yet

    def _kind(self, index: QModelIndex) -> str:
        specs = getattr(index.model(), "specs", None)
        return specs[index.column()].kind if specs and index.column() < len(specs) else ""

    def paint(self, painter: QPainter, option, index) -> None:
        model = index.model()
        values = model.paint_values(index.row(), index.column()) if hasattr(model, "paint_values") else None
        if values is None:
            super().paint(painter, option, index)
            return
        kind, text, extra, checked = values
        rect = option.rect
        selected = bool(option.state & _SELECTED)
        alternate = bool(option.features & _ALTERNATE)
        tinted = checked and not selected
        device = painter.device()
        ratio = device.devicePixelRatioF() if device else 1.0
        if kind == C.TAGS:
            extra = tuple(extra)
        elif kind == C.STATUS and extra[0] not in st.PROGRESS_STATUSES:
            extra = (extra[0], None)
        # Cells repeat (a status with its progress, a tag set): each look is drawn once and
        # then copied, which costs a fraction of drawing icon, text and bar again. The view's
        # font and palette are not in the key: changing them empties the cache (clear_cache).
        key = (kind, text, extra, rect.width(), rect.height(), selected, alternate, tinted, ratio)
        cell = self._cells.get(key)
        if cell is not None:
            painter.drawPixmap(rect.topLeft(), cell)
            return
        if len(self._cells) + len(self._seen) >= MAX_CACHED_CELLS:
            self.clear_cache()
        palette = option.palette
        if selected:
            background = palette.highlight().color()
        elif tinted:
            background = CHECKED_ROW_TINT
        elif alternate:
            background = palette.alternateBase().color()
        else:
            background = palette.base().color()
        text_colour = palette.color(_HIGHLIGHTED_TEXT if selected else _TEXT)
        if key not in self._seen:
            # A look seen once (a running experiment's new progress) may never come back:
            # drawn in place, and kept only when it shows again.
            self._seen.add(key)
            if selected or tinted or alternate:
                painter.fillRect(rect, background)
            painter.save()
            painter.setClipRect(rect)
            self._paint_cell(painter, rect, kind, text, extra, option, text_colour, ratio)
            painter.restore()
            return
        self._seen.discard(key)
        cell = self._cells[key] = self._draw_cell(rect, kind, text, extra, option, background, text_colour, ratio)
        painter.drawPixmap(rect.topLeft(), cell)

    def clear_cache(self) -> None:
        self._cells.clear()
        self._seen.clear()

    def _draw_cell(self, rect: QRect, kind: str, text: str, extra, option, background: QColor,
                   text_colour: QColor, ratio: float) -> QPixmap:
        cell = QPixmap(max(1, round(rect.width() * ratio)), max(1, round(rect.height() * ratio)))
        cell.setDevicePixelRatio(ratio)
        cell.fill(background)
        painter = QPainter(cell)
        self._paint_cell(painter, QRect(0, 0, rect.width(), rect.height()), kind, text, extra, option,
                         text_colour, ratio)
        painter.end()
        return cell

    def _paint_cell(self, painter: QPainter, rect: QRect, kind: str, text: str, extra, option,
                    text_colour: QColor, ratio: float) -> None:
        inner = rect.adjusted(8, 0, -6, 0)
        if kind == C.TAGS:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._paint_tags(painter, inner, extra, option.font, text_colour)
            return
        if kind == C.TYPE:
            name, progress, status = icons.type_icon_name(extra), None, ""
        else:
            status, progress = extra
            name = icons.status_icon_name(status)
        top = inner.center().y() - 8
        painter.drawPixmap(QRect(inner.left(), top, 16, 16), icons.pixmap(name, 16, ratio))
        text_left = inner.left() + 22
        painter.setPen(text_colour)
        painter.setFont(option.font)
        bar_width = 44 if progress is not None else 0
        text_rect = QRect(text_left, inner.top(), max(0, inner.right() - text_left - bar_width - 6), inner.height())
        metrics = option.fontMetrics
        painter.drawText(text_rect, _LEFT_MIDDLE, metrics.elidedText(text, Qt.TextElideMode.ElideRight,
                                                                      text_rect.width()))
        if progress is not None:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            used = metrics.horizontalAdvance(text)
            bar = QRect(min(text_left + used + 8, inner.right() - bar_width), inner.center().y() - 3,
                        bar_width, 6)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.current().colour("border"))
            painter.drawRoundedRect(bar, 3, 3)
            filled = QRect(bar.left(), bar.top(), int(bar.width() * max(0, min(100, progress)) / 100), bar.height())
            painter.setBrush(PROGRESS_COLOURS[status])
            painter.drawRoundedRect(filled, 3, 3)

    def _chip_font(self, font: QFont) -> tuple[QFont, QFontMetrics]:
        key = font.key()
        cached = self._chip_fonts.get(key)
        if cached is None:
            small = QFont(font)
            small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
            cached = self._chip_fonts[key] = (small, QFontMetrics(small))
        return cached

    def _paint_tags(self, painter: QPainter, rect: QRect, tags, font: QFont, text_colour: QColor) -> None:
        font, metrics = self._chip_font(font)
        painter.setFont(font)
        x = rect.left()
        height = metrics.height() + 4
        top = rect.center().y() - height // 2
        for name, background, foreground in tags:
            width = metrics.horizontalAdvance(name) + 14
            if x + width > rect.right() and x > rect.left():
                painter.setPen(text_colour)
                painter.drawText(QRect(x, rect.top(), rect.right() - x, rect.height()), _LEFT_MIDDLE, "…")
                break
            chip = QRect(x, top, width, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(background))
            painter.drawRoundedRect(chip, height / 2, height / 2)
            painter.setPen(QPen(QColor(foreground)))
            painter.drawText(chip, _CENTER, name)
            x += width + 4

    def sizeHint(self, option, index) -> QSize:
        kind = self._kind(index)
        base = super().sizeHint(option, index)
        if kind == C.TAGS:
            font = QFont(option.font)
            font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
            metrics = QFontMetrics(font)
            width = sum(metrics.horizontalAdvance(t[0]) + 18 for t in (index.data(TagsRole) or []))
            return QSize(width + 16, ROW_HEIGHT)
        if kind in (C.TYPE, C.STATUS):
            return QSize(base.width() + 30 + (50 if kind == C.STATUS else 0), ROW_HEIGHT)
        return QSize(base.width() + 8, ROW_HEIGHT)


class ExperimentTableView(QTableView):
    """The table: fixed row height, row selection kept per experiment (SlotSelectionModel), sorting
    through the model's ``sort`` (Shift+click adds a level), columns fitted to the table's width."""

    sig_current_id_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("experimentsTable")
        self.header_view = FilterHeader(self)
        self.setHorizontalHeader(self.header_view)
        self.header_view.sig_fit_requested.connect(self.fit_column)
        vheader = self.verticalHeader()
        vheader.setVisible(False)
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(ROW_HEIGHT)
        vheader.setMinimumSectionSize(ROW_HEIGHT)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        # Plain cells go to Qt's own delegate: a Python paint() per cell costs more than
        # the painting itself. Only the columns drawn by hand get CellDelegate.
        self.setItemDelegate(QStyledItemDelegate(self))
        self.cell_delegate = CellDelegate(self)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.DefaultContextMenu)
        self.context_menu_handler: Callable[[QPoint, str], None] | None = None
        self.activate_handler: Callable[[str], None] | None = None
        self.doubleClicked.connect(self._on_double_clicked)
        # Qt's selection mirrors the rows on screen: it moves with them.
        self.verticalScrollBar().valueChanged.connect(self._mirror_selection)
        self._saved: tuple[str | None, int] | None = None

    def changeEvent(self, event) -> None:
        delegate = getattr(self, "cell_delegate", None)  # None while __init__ runs
        if delegate is not None and event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange,
                                                     QEvent.Type.StyleChange):
            delegate.clear_cache()
        super().changeEvent(event)

    def setModel(self, model) -> None:
        super().setModel(model)
        for signal in (model.modelReset, model.columnsInserted, model.columnsRemoved):
            signal.connect(self._assign_delegates)
        self._assign_delegates()
        if hasattr(model, "order"):  # an ExperimentTableProxy: the selection is kept per slot
            selection = SlotSelectionModel(model, self)
            selection.window = self._selection_window
            self.setSelectionModel(selection)
        model.modelAboutToBeReset.connect(self._save_position)
        model.modelReset.connect(self._restore_position)
        self.selectionModel().currentRowChanged.connect(self._on_current_row)
        # The header's indicator shows the model's sort first: enabling sorting re-sends it to sort().
        self.header_view.sync_sort_indicator()
        self.setSortingEnabled(True)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._mirror_selection()

    def _assign_delegates(self, *_args) -> None:
        specs = getattr(self.model(), "specs", [])
        for column, spec in enumerate(specs):
            painted = spec.kind in CellDelegate.PAINTED_KINDS
            self.setItemDelegateForColumn(column, self.cell_delegate if painted else None)

    # ---- Ids and selection ------------------------------------------------------------------

    def current_id(self) -> str | None:
        index = self.currentIndex()
        return index.data(IdRole) if index.isValid() else None

    def selected_ids(self) -> list[str]:
        """Ids of the selected rows, in row order."""
        return self.model().ids_at_rows(self.selected_rows())

    def selected_rows(self) -> np.ndarray:
        """Selected rows, ascending."""
        selection = self.selectionModel()
        if isinstance(selection, SlotSelectionModel):
            return selection.selected_rows()
        return np.unique(np.array([i.row() for i in selection.selectedRows()], np.int64))

    def selectedIndexes(self) -> list[QModelIndex]:
        # Qt's answer knows only the rows on screen (see SlotSelectionModel).
        return self.selectionModel().selectedIndexes()

    def select_id(self, exp_id: str, *, scroll: bool = True) -> bool:
        row = self.model().row_of_id(exp_id)
        if row < 0:
            return False
        index = self.model().index(row, self._first_visible_column())
        if scroll:
            self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self.selectionModel().setCurrentIndex(
            index, self.selectionModel().SelectionFlag.ClearAndSelect | self.selectionModel().SelectionFlag.Rows)
        return True

    def _first_visible_column(self) -> int:
        header = self.horizontalHeader()
        for visual in range(header.count()):
            logical = header.logicalIndex(visual)
            if not header.isSectionHidden(logical):
                return logical
        return 0

    def _selection_window(self) -> tuple[int, int]:
        top, bottom = self.visible_row_range()
        return top - SELECTION_WINDOW_MARGIN, bottom + SELECTION_WINDOW_MARGIN

    def _mirror_selection(self, *_args) -> None:
        selection = self.selectionModel()
        if isinstance(selection, SlotSelectionModel):
            selection.mirror()

    def selectionChanged(self, selected: QItemSelection, deselected: QItemSelection) -> None:
        if len(selected) + len(deselected) > MANY_SELECTION_RANGES:
            # Qt works out the region to repaint range by range, asking the Python model for two
            # indexes per range; repainting what is on screen costs less.
            self.viewport().update()
            return
        super().selectionChanged(selected, deselected)

    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.sig_current_id_changed.emit(current.data(IdRole) if current.isValid() else "")

    def _save_position(self) -> None:
        self._saved = (self.current_id(), self.verticalScrollBar().value())

    def _restore_position(self) -> None:
        """After a new table: the current row and the scroll position come back (the selection model
        brings the selected rows back by id)."""
        if self._saved is None:
            return
        current, scroll = self._saved
        self._saved = None
        model = self.model()
        if current:
            row = model.row_of_id(current)
            if row >= 0:
                self.selectionModel().setCurrentIndex(model.index(row, self._first_visible_column()),
                                                      self.selectionModel().SelectionFlag.NoUpdate)
        self.verticalScrollBar().setValue(scroll)
        self.sig_current_id_changed.emit(self.current_id() or "")

    # ---- Fit to contents, measured on the rows on screen ---------------------------------------

    def visible_row_range(self) -> tuple[int, int]:
        """First and last row on screen; before the table is laid out, the first FIT_SAMPLE_ROWS."""
        model = self.model()
        count = model.rowCount() if model is not None else 0
        if count == 0:
            return -1, -1
        height = self.viewport().height()
        top = max(self.rowAt(0), 0)
        bottom = self.rowAt(height - 1)
        if bottom < 0:
            rows = height // ROW_HEIGHT + 1 if height > ROW_HEIGHT else FIT_SAMPLE_ROWS
            bottom = min(count - 1, top + rows)
        return top, bottom

    def sizeHintForColumn(self, column: int) -> int:
        top, bottom = self.visible_row_range()
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        delegate = self.cell_delegate  # its sizeHint knows every column kind
        width = 0
        model = self.model()
        for row in range(max(top, 0), bottom + 1):
            width = max(width, delegate.sizeHint(option, model.index(row, column)).width())
        return width

    def fit_column(self, logical: int) -> None:
        header = self.horizontalHeader()
        width = max(self.sizeHintForColumn(logical), header.sectionSizeFromContents(logical).width())
        header.resizeSection(logical, min(width + 4, 800))

    def fitted_width(self, logical: int) -> int:
        """The width column ``logical`` needs, up to FITTED_MAX_WIDTH and never less than its header's:
        columns of few values (type, status, project, user, hyperparameters…) fit their widest value,
        dates any relative time, the others their cells on screen; the check box and star keep theirs."""
        model = self.model()
        spec = model.specs[logical]
        if spec.kind == C.CHECK or spec.key == STAR_KEY:
            return spec.default_width
        header = self.horizontalHeader().sectionSizeFromContents(logical).width()
        metrics = QFontMetrics(self.font())
        labels = model.distinct_labels(spec.key) if hasattr(model, "distinct_labels") else None
        if labels is not None and len(labels) > FIT_MAX_LABELS:
            labels = None
        if spec.kind == C.DATE:
            content = max(metrics.horizontalAdvance(t) for t in DATE_SAMPLES) + CELL_PADDING
        elif labels is not None or spec.kind in KNOWN_LABELS:
            labels = [*(labels or ()), *KNOWN_LABELS.get(spec.kind, ())]
            content = max((metrics.horizontalAdvance(label) for label in labels), default=0)
            if spec.kind in (C.TYPE, C.STATUS):
                content += ICON_CELL_EXTRA + (PROGRESS_EXTRA if spec.kind == C.STATUS else 0)
            else:
                content += CELL_PADDING
        elif spec.kind == C.TAGS:
            content = self.sizeHintForColumn(logical) + 4  # chips: CellDelegate knows their widths
        else:
            # The texts themselves: a delegate's sizeHint per cell asks the model for every role.
            top, bottom = self.visible_row_range()
            texts = (model.index(row, logical).data() for row in range(max(top, 0), bottom + 1))
            content = max((metrics.horizontalAdvance(t) for t in texts if t), default=0) + CELL_PADDING
        return max(header, min(content, FITTED_MAX_WIDTH))

    def fit_columns(self) -> None:
        """Every visible column to its contents (``fitted_width``), then NAME to the room left: its
        reference width, more when the table has room to spare, less in a narrow table."""
        header = self.horizontalHeader()
        visible = [logical for logical in range(header.count()) if not header.isSectionHidden(logical)]
        name = self.model().column_of("name")
        widths = {logical: self.fitted_width(logical) for logical in visible if logical != name}
        if name in visible:
            widths[name] = self._name_width(sum(widths.values()))
        for logical, width in widths.items():
            header.resizeSection(logical, width)

    def fit_name_column(self) -> None:
        """NAME alone, to the room the other columns leave (the table was resized)."""
        header = self.horizontalHeader()
        name = self.model().column_of("name")
        if name < 0 or header.isSectionHidden(name):
            return
        others = sum(header.sectionSize(c) for c in range(header.count())
                     if c != name and not header.isSectionHidden(c))
        header.resizeSection(name, self._name_width(others))

    def _name_width(self, others: int) -> int:
        available = self.viewport().width()
        return max(NAME_MIN_WIDTH, min(NAME_REFERENCE_WIDTH, available // 2), available - others)

    # ---- Hooks -----------------------------------------------------------------------------------

    def contextMenuEvent(self, event) -> None:
        index = self.indexAt(event.pos())
        if not index.isValid() or self.context_menu_handler is None:
            return
        if not self.selectionModel().isRowSelected(index.row(), QModelIndex()):
            self.selectionModel().setCurrentIndex(
                index, self.selectionModel().SelectionFlag.ClearAndSelect | self.selectionModel().SelectionFlag.Rows)
        self.context_menu_handler(event.globalPos(), index.data(IdRole))

    def _on_double_clicked(self, index: QModelIndex) -> None:
        specs = self.model().specs
        if index.isValid() and specs[index.column()].kind != C.CHECK and self.activate_handler:
            self.activate_handler(index.data(IdRole))

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            if self.activate_handler:
                self.activate_handler(self.current_id())
            event.accept()
            return
        if key == Qt.Key.Key_Space and self.currentIndex().isValid():
            ids = self.selected_ids() or [self.current_id()]
            model = self.model()
            model.set_checked(ids, not all(i in model.checked for i in ids))
            event.accept()
            return
        super().keyPressEvent(event)
