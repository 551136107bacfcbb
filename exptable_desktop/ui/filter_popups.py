"""The filter pop-ups opened from a header funnel: value set, tags, number, date and duration ranges.

Each pop-up applies its filter as it changes (ranges after a short pause, as
the reference does) by emitting ``sig_changed(key, filter or None)``. Their
lists have the table's row height and are as tall as their entries, up to
MAX_VISIBLE_ROWS, and as wide as their longest entry, up to LIST_MAX_WIDTH.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

from PySide6.QtCore import QDateTime, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QDoubleValidator, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDateTimeEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStyle,
    QStyledItemDelegate,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import formatting as fmt
from exptable_desktop.core.filters import NO_VALUE, AnyFilter, RangeFilter, TagFilter, ValueSetFilter
from exptable_desktop.ui import palette
from exptable_desktop.ui.table_view import ROW_HEIGHT

RANGE_APPLY_DELAY_MS = 500
_STATE_MARKS = {0: "☐", 1: "☑", 2: "☒"}
_EXCLUDE_COLOUR = QColor(palette.themed("$danger"))
_COUNT_COLOUR = QColor(palette.themed("$text_secondary"))
CountRole = Qt.ItemDataRole.UserRole + 5
# A tag list's entries: a system tag (SystemTagRole True) or the "System tags" header (SectionRole True).
SystemTagRole = Qt.ItemDataRole.UserRole + 6
SectionRole = Qt.ItemDataRole.UserRole + 7
SYSTEM_SECTION = "System tags"
# A list shows this many entries before it scrolls, and is this wide at most (longer labels elide).
MAX_VISIBLE_ROWS = 15
LIST_MIN_WIDTH = 240
LIST_MAX_WIDTH = 440
# Room beside a label: the check mark (or the state mark) before it, the gaps around the count.
_LABEL_PADDING = 40
# Beside a label that is not unique (parents of the same name), this much of the id tells them apart.
SHORT_ID = 8


class CountColumnDelegate(QStyledItemDelegate):
    """Paints an item's count right-aligned in a column of its own and elides the label before it.

    The list never scrolls sideways: a long label is cut with "…" instead of pushing the count away.
    """

    def __init__(self, view: QListWidget):
        super().__init__(view)
        self.view = view
        self._count_width: int | None = None  # worked out once per change of the list, not per painted item
        model = view.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._forget_width)

    def _forget_width(self, *_args) -> None:
        self._count_width = None

    def count_width(self) -> int:
        if self._count_width is None:
            largest = max((self.view.item(i).data(CountRole) or 0 for i in range(self.view.count())), default=0)
            self._count_width = self.view.fontMetrics().horizontalAdvance(f"{largest:,}") + 16
        return self._count_width

    def paint(self, painter, option, index) -> None:
        right = min(option.rect.right(), self.view.viewport().width() - 1)
        width = self.count_width()
        count_rect = QRect(right - width, option.rect.top(), width - 6, option.rect.height())
        label_option = option.__class__(option)
        label_option.rect = QRect(option.rect.left(), option.rect.top(),
                                  max(0, count_rect.left() - option.rect.left() - 6), option.rect.height())
        # Cut in the middle: the end of a label (a version, the short id of a twin) tells entries apart.
        label_option.textElideMode = Qt.TextElideMode.ElideMiddle
        super().paint(painter, label_option, index)
        count = index.data(CountRole)
        if count is not None:
            painter.save()
            painter.setPen(_COUNT_COLOUR)
            painter.drawText(count_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), f"{count:,}")
            painter.restore()

    def sizeHint(self, option, index) -> QSize:
        # The table's row height; never wider than the list: long labels elide rather than scroll.
        return QSize(1, self.view.property("rowHeight") or ROW_HEIGHT)


def table_row_height(owner: QWidget | None) -> int:
    """The row height of ``owner``'s experiments table (the window a pop-up filters), else the table's default."""
    view = getattr(owner, "table_view", None)
    return view.verticalHeader().defaultSectionSize() if view is not None else ROW_HEIGHT


def _count_list(name: str, row_height: int) -> QListWidget:
    view = QListWidget()
    view.setObjectName(name)
    view.setProperty("rowHeight", row_height)
    view.setUniformItemSizes(True)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setItemDelegate(CountColumnDelegate(view))
    return view


def fit_list(view: QListWidget) -> None:
    """Size ``view`` to its entries: every entry without scrolling up to MAX_VISIBLE_ROWS, and the
    longest label beside the widest count, between LIST_MIN_WIDTH and LIST_MAX_WIDTH."""
    row_height = view.property("rowHeight") or ROW_HEIGHT
    rows = view.count()
    frame = 2 * view.frameWidth()
    view.setFixedHeight(max(1, min(rows, MAX_VISIBLE_ROWS)) * row_height + frame)
    metrics = view.fontMetrics()
    bold = QFont(view.font())
    bold.setBold(True)
    bold_metrics = QFontMetrics(bold)
    label = max((bold_metrics if view.item(i).data(SectionRole) else metrics).horizontalAdvance(view.item(i).text())
                for i in range(rows)) if rows else 0
    delegate = view.itemDelegate()
    count = delegate.count_width() if isinstance(delegate, CountColumnDelegate) else 0
    scroll = view.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent) if rows > MAX_VISIBLE_ROWS else 0
    view.setFixedWidth(max(LIST_MIN_WIDTH, min(LIST_MAX_WIDTH, label + _LABEL_PADDING + count + scroll + frame)))


def disambiguated_labels(values: list[tuple[str, str, int]]) -> dict[str, str]:
    """value key -> label shown; a label several values share gets a short id suffix ("name · 1a2b3c4d")."""
    shared = Counter(label for _value, label, _count in values)
    return {value: f"{label} · {value[:SHORT_ID]}" if shared[label] > 1 and value != NO_VALUE else label
            for value, label, _count in values}


class FilterPopup(QFrame):
    """Base of the header funnel's pop-ups: titled after the column, kept inside the window, and emitting
    ``sig_changed(key, filter or None)`` as the filter changes."""

    sig_changed = Signal(str, object)

    def __init__(self, key: str, title: str, parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("filterPopup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.key = key
        self.row_height = table_row_height(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(10, 8, 10, 8)
        self.layout_.setSpacing(6)
        heading = QLabel(f"<b>Filter {title}</b>")
        self.layout_.addWidget(heading)

    def show_at(self, pos: QPoint) -> None:
        self.adjustSize()
        self.move(self._kept_inside(pos))
        self.show()
        for view in self.findChildren(QListWidget):
            view.scrollToTop()

    def _kept_inside(self, pos: QPoint) -> QPoint:
        """``pos`` moved left / up as needed so the pop-up stays within the window (else the screen)."""
        owner = self.parentWidget()
        area = owner.window().frameGeometry() if owner is not None else QRect()
        screen = self.screen().availableGeometry() if self.screen() is not None else QRect()
        if not area.isValid() or area.width() < self.width() or area.height() < self.height():
            area = screen
        if not area.isValid():
            return pos
        x = max(area.left(), min(pos.x(), area.right() + 1 - self.width()))
        y = max(area.top(), min(pos.y(), area.bottom() + 1 - self.height()))
        return QPoint(x, y)

    def emit_filter(self, flt: AnyFilter | None) -> None:
        self.sig_changed.emit(self.key, flt if flt is not None and flt.active else None)


class ValueSetPopup(FilterPopup):
    """Checkbox list of the column's distinct values, with search; selected values first."""

    def __init__(self, key: str, title: str, values: list[tuple[str, str, int]], current: ValueSetFilter | None,
                 parent=None):
        super().__init__(key, title, parent)
        selected = set(current.values) if current else set()
        self.search = QLineEdit(placeholderText="Search values")
        self.search.setClearButtonEnabled(True)
        self.list = _count_list("valueList", self.row_height)
        ordered = sorted(values, key=lambda v: v[0] not in selected)
        shown = disambiguated_labels(values)
        for value, label, count in ordered:
            item = QListWidgetItem(shown[value])
            item.setToolTip(shown[value] if shown[value] == label else f"{label}\nid {value}")
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setData(CountRole, count)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if value in selected else Qt.CheckState.Unchecked)
            if value == NO_VALUE:
                item.setForeground(QColor(palette.themed("$text_secondary")))
            self.list.addItem(item)
        fit_list(self.list)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        self.layout_.addWidget(self.search)
        self.layout_.addWidget(self.list)
        self.layout_.addWidget(clear, alignment=Qt.AlignmentFlag.AlignRight)
        self.search.textChanged.connect(self._filter_items)
        self.list.itemChanged.connect(lambda _item: self.emit_filter(self.current_filter()))

    def _filter_items(self, text: str) -> None:
        needle = text.lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def set_checked(self, value: str, checked: bool) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == value:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def current_filter(self) -> ValueSetFilter:
        return ValueSetFilter(frozenset(
            self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked))

    def clear(self) -> None:
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            self.list.item(i).setCheckState(Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self.emit_filter(None)


class TagPopup(FilterPopup):
    """ANY / ALL, and a list where each click cycles a tag: off -> include -> exclude -> off.

    The user tags come first ("(no tags)" last among them), then, under a "System tags" header,
    the system tags (core.filters.SYSTEM_TAGS) the rows carry, as the reference lists them.
    """

    def __init__(self, key: str, title: str, tags: list[tuple[str, int]], current: TagFilter | None, parent=None,
                 system_tags: Sequence[tuple[str, int]] = ()):
        super().__init__(key, title, parent)
        current = current or TagFilter()
        mode_row = QHBoxLayout()
        self.any_button = QRadioButton("ANY")
        self.all_button = QRadioButton("ALL")
        group = QButtonGroup(self)
        group.addButton(self.any_button)
        group.addButton(self.all_button)
        (self.all_button if current.mode == "all" else self.any_button).setChecked(True)
        mode_row.addWidget(self.any_button)
        mode_row.addWidget(self.all_button)
        mode_row.addStretch(1)
        self.layout_.addLayout(mode_row)
        self.search = QLineEdit(placeholderText="Search tags")
        self.search.setClearButtonEnabled(True)
        self.layout_.addWidget(self.search)
        self.list = _count_list("tagList", self.row_height)
        for name, count in tags:
            state = 1 if name in current.include else 2 if name in current.exclude else 0
            if name == "":
                state = 1 if current.no_tags else 0
            self._add_tag(name, count, state, system=False)
        self.section_item: QListWidgetItem | None = None
        if system_tags:
            self.section_item = QListWidgetItem(SYSTEM_SECTION)
            self.section_item.setData(SectionRole, True)
            self.section_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = QFont(self.list.font())
            font.setBold(True)
            self.section_item.setFont(font)
            self.section_item.setForeground(palette.current().colour("text_secondary"))
            self.list.addItem(self.section_item)
            for name, count in system_tags:
                state = 1 if name in current.system_include else 2 if name in current.system_exclude else 0
                self._add_tag(name, count, state, system=True)
        fit_list(self.list)
        self.layout_.addWidget(self.list)
        hint = QLabel("Click a tag: include, then exclude, then off.")
        hint.setStyleSheet(palette.themed("color: $text_secondary;"))
        self.layout_.addWidget(hint)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        self.layout_.addWidget(clear, alignment=Qt.AlignmentFlag.AlignRight)
        self.list.itemClicked.connect(self.cycle)
        self.any_button.toggled.connect(lambda _on: self.emit_filter(self.current_filter()))
        self.search.textChanged.connect(self._filter_items)

    def _add_tag(self, name: str, count: int, state: int, *, system: bool) -> None:
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setData(Qt.ItemDataRole.UserRole + 1, count)
        item.setData(SystemTagRole, system)
        item.setToolTip(f"System tag: {name}" if system else (name or "Experiments without tags"))
        self._set_state(item, state)
        self.list.addItem(item)

    def _set_state(self, item: QListWidgetItem, state: int) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        if name == "" and state == 2:
            state = 0  # "(no tags)" has no exclude
        item.setData(Qt.ItemDataRole.UserRole + 2, state)
        label = name or "(no tags)"
        item.setText(f"{_STATE_MARKS[state]}  {label}")
        item.setData(CountRole, item.data(Qt.ItemDataRole.UserRole + 1))
        item.setForeground(_EXCLUDE_COLOUR if state == 2 else QColor(palette.themed("$text")))

    def cycle(self, item: QListWidgetItem) -> None:
        if item.data(SectionRole):
            return  # the "System tags" header is no tag
        self._set_state(item, (item.data(Qt.ItemDataRole.UserRole + 2) + 1) % 3)
        self.emit_filter(self.current_filter())

    def _tag_items(self) -> list[QListWidgetItem]:
        return [item for item in map(self.list.item, range(self.list.count())) if not item.data(SectionRole)]

    def item_for(self, name: str, system: bool = False) -> QListWidgetItem | None:
        """The entry of user tag ``name`` ("" = "(no tags)"), or with ``system`` of system tag ``name``."""
        for item in self._tag_items():
            if item.data(Qt.ItemDataRole.UserRole) == name and bool(item.data(SystemTagRole)) == system:
                return item
        return None

    def _filter_items(self, text: str) -> None:
        needle = text.lower()
        for item in self._tag_items():
            item.setHidden(bool(needle) and needle not in (item.data(Qt.ItemDataRole.UserRole) or "").lower())
        if self.section_item is not None:
            self.section_item.setHidden(all(item.isHidden() for item in self._tag_items() if item.data(SystemTagRole)))

    def current_filter(self) -> TagFilter:
        include, exclude, no_tags = set(), set(), False
        system_include, system_exclude = set(), set()
        for item in self._tag_items():
            name, state = item.data(Qt.ItemDataRole.UserRole), item.data(Qt.ItemDataRole.UserRole + 2)
            if item.data(SystemTagRole):
                if state == 1:
                    system_include.add(name)
                elif state == 2:
                    system_exclude.add(name)
            elif name == "":
                no_tags = state == 1
            elif state == 1:
                include.add(name)
            elif state == 2:
                exclude.add(name)
        return TagFilter("all" if self.all_button.isChecked() else "any", frozenset(include), frozenset(exclude),
                         no_tags, frozenset(system_include), frozenset(system_exclude))

    def clear(self) -> None:
        for item in self._tag_items():
            self._set_state(item, 0)
        self.emit_filter(None)


class _DebouncedRange(FilterPopup):
    def __init__(self, key: str, title: str, parent=None):
        super().__init__(key, title, parent)
        self.timer = QTimer(self, singleShot=True, interval=RANGE_APPLY_DELAY_MS)
        self.timer.timeout.connect(self.apply_now)

    def schedule(self, *_args) -> None:
        self.timer.start()

    def apply_now(self) -> None:
        self.timer.stop()
        self.emit_filter(self.current_filter())

    def current_filter(self) -> RangeFilter:
        raise NotImplementedError

    def _buttons(self) -> None:
        row = QHBoxLayout()
        row.addStretch(1)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.clear)
        row.addWidget(clear)
        self.layout_.addLayout(row)

    def clear(self) -> None:
        raise NotImplementedError


class NumberRangePopup(_DebouncedRange):
    """Filters a number column to a range; an end left empty is open. Applied after a short pause in typing, or at
    once on Enter."""

    def __init__(self, key: str, title: str, current: RangeFilter | None, parent=None):
        super().__init__(key, title, parent)
        grid = QGridLayout()
        self.low = QLineEdit(placeholderText="any")
        self.high = QLineEdit(placeholderText="any")
        for edit, value in ((self.low, current.low if current else None), (self.high, current.high if current else None)):
            edit.setValidator(QDoubleValidator(edit))
            if value is not None:
                edit.setText(fmt.rounded_float(value, 12))
            edit.textChanged.connect(self.schedule)
            edit.returnPressed.connect(self.apply_now)
        grid.addWidget(QLabel("Equals or greater than"), 0, 0)
        grid.addWidget(self.low, 0, 1)
        grid.addWidget(QLabel("and equals or less than"), 1, 0)
        grid.addWidget(self.high, 1, 1)
        self.layout_.addLayout(grid)
        self._buttons()

    @staticmethod
    def _number(edit: QLineEdit) -> float | None:
        text = edit.text().strip().replace(",", ".")
        try:
            return float(text) if text else None
        except ValueError:
            return None

    def current_filter(self) -> RangeFilter:
        return RangeFilter(self._number(self.low), self._number(self.high))

    def clear(self) -> None:
        self.low.clear()
        self.high.clear()
        self.apply_now()


class DateRangePopup(_DebouncedRange):
    """Filters a date column to a range: a From and a To date, each used only while its box is checked; applied
    after a short pause."""

    def __init__(self, key: str, title: str, current: RangeFilter | None, parent=None):
        super().__init__(key, title, parent)
        grid = QGridLayout()
        self.edits = []
        now = QDateTime.currentDateTime()
        for row, (label, value) in enumerate((("From", current.low if current else None),
                                              ("To", current.high if current else None))):
            box = QCheckBox(label)
            edit = QDateTimeEdit(now if value is None else QDateTime.fromSecsSinceEpoch(int(value)))
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("MMM d yyyy H:mm")
            box.setChecked(value is not None)
            edit.setEnabled(value is not None)
            box.toggled.connect(edit.setEnabled)
            box.toggled.connect(self.schedule)
            edit.dateTimeChanged.connect(self.schedule)
            grid.addWidget(box, row, 0)
            grid.addWidget(edit, row, 1)
            self.edits.append((box, edit))
        self.layout_.addLayout(grid)
        self._buttons()

    def set_range(self, low: float | None, high: float | None) -> None:
        for (box, edit), value in zip(self.edits, (low, high)):
            box.setChecked(value is not None)
            if value is not None:
                edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(value)))

    def current_filter(self) -> RangeFilter:
        low, high = (float(edit.dateTime().toSecsSinceEpoch()) if box.isChecked() else None
                     for box, edit in self.edits)
        return RangeFilter(low, high)

    def clear(self) -> None:
        for box, _edit in self.edits:
            box.setChecked(False)
        self.apply_now()


class DurationRangePopup(_DebouncedRange):
    """Days / hours / minutes / seconds for each end; the filter is in seconds."""

    def __init__(self, key: str, title: str, current: RangeFilter | None, parent=None):
        super().__init__(key, title, parent)
        grid = QGridLayout()
        for col, unit in enumerate(("d", "h", "m", "s"), start=1):
            grid.addWidget(QLabel(unit), 0, col, alignment=Qt.AlignmentFlag.AlignCenter)
        self.rows = []
        for row, (label, value) in enumerate((("At least", current.low if current else None),
                                              ("At most", current.high if current else None)), start=1):
            box = QCheckBox(label)
            box.setChecked(value is not None)
            grid.addWidget(box, row, 0)
            parts = fmt.split_duration(value or 0)
            spins = []
            for col, (limit, part) in enumerate(zip((9999, 23, 59, 59), parts), start=1):
                spin = QSpinBox()
                spin.setRange(0, limit)
                spin.setValue(part)
                spin.valueChanged.connect(self.schedule)
                spin.valueChanged.connect(lambda _v, b=box: b.setChecked(True))
                grid.addWidget(spin, row, col)
                spins.append(spin)
            box.toggled.connect(self.schedule)
            self.rows.append((box, spins))
        self.layout_.addLayout(grid)
        self._buttons()

    def set_seconds(self, which: int, seconds: float | None) -> None:
        box, spins = self.rows[which]
        box.setChecked(seconds is not None)
        for spin, part in zip(spins, fmt.split_duration(seconds or 0)):
            spin.blockSignals(True)
            spin.setValue(part)
            spin.blockSignals(False)

    def current_filter(self) -> RangeFilter:
        bounds = []
        for box, spins in self.rows:
            d, h, m, s = (spin.value() for spin in spins)
            bounds.append(float(d * 86400 + h * 3600 + m * 60 + s) if box.isChecked() else None)
        return RangeFilter(*bounds)

    def clear(self) -> None:
        for box, _spins in self.rows:
            box.setChecked(False)
        self.apply_now()

