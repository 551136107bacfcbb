"""The main window's top bar: view modes, the scope's title, search, and the table's toggles.

It spans the whole window in a tool bar, docks included, so the view-mode buttons, the search
and the toggles stay reachable whatever the docks do (Details mode).
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QLineEdit, QMenu, QSizePolicy, QToolButton, QWidget

from exptable_desktop.ui import icons

# The Auto-refresh button's menu: the intervals offered, in seconds.
REFRESH_CHOICES = (1.0, 3.0, 5.0, 10.0, 30.0)


class CompactToolButton(QToolButton):
    """A top-bar button that shows its text while the bar has room and only its icon when it has not,
    so these buttons do not widen the window's minimum width. The bar decides for all of them at once:
    their texts show when every part of the bar fits at its minimum with them."""

    def __init__(self, text: str):
        super().__init__()
        self.setText(text)
        # A tool button is Fixed by default: the window could then never be narrower than its text.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, self.sizePolicy().verticalPolicy())
        self._compact = False
        self._measuring = False
        self._icon_hint = self._full_hint = QSize()
        self._measure()

    def _measure(self) -> None:
        self._measuring = True
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._icon_hint = super().sizeHint()
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._full_hint = super().sizeHint()
        if self._compact:
            self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._measuring = False
        self.updateGeometry()

    def text_width(self) -> int:
        return self._full_hint.width() - self._icon_hint.width()

    def is_compact(self) -> bool:
        return self._compact

    def set_compact(self, compact: bool) -> None:
        if compact != self._compact:
            self._compact = compact
            self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly if compact
                                    else Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._icon_hint if self._compact else self._full_hint)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._icon_hint)

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.ParentChange and self.parentWidget() is not None:
            self.parentWidget().installEventFilter(self)
        elif not self._measuring and event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._measure()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize and watched is self.parentWidget() and watched.layout() is not None:
            buttons = watched.findChildren(CompactToolButton, options=Qt.FindChildOption.FindDirectChildrenOnly)
            # The bar's minimum counts these buttons as icons.
            fits = watched.width() >= watched.layout().minimumSize().width() + sum(b.text_width() for b in buttons)
            for button in buttons:
                button.set_compact(not fits)
        return False


def tool_button(name: str, icon_name: str, tip: str, text: str = "", checkable: bool = False) -> QToolButton:
    """A flat top-bar button with an icon, and its text beside it when given."""
    button = QToolButton()
    button.setObjectName(name)
    button.setIcon(icons.icon(icon_name))
    button.setToolTip(tip)
    button.setCheckable(checkable)
    if text:
        button.setText(text)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    button.setAutoRaise(True)
    return button


def compact_button(name: str, icon_name: str, text: str, tip: str) -> CompactToolButton:
    """A flat top-bar button whose text gives way to its icon alone when the bar is short of room."""
    button = CompactToolButton(text)
    button.setObjectName(name)
    button.setIcon(icons.icon(icon_name))
    button.setToolTip(tip)
    button.setAutoRaise(True)
    return button


class TopBar:
    """Builds the main window's top bar (a mixin of ``MainWindow``).

    The parts become the window's attributes (``view_mode_buttons``, ``title_label``, ``search_box``,
    ``regex_action``, ``query_box``, ``clear_filters_button``, ``archive_toggle``,
    ``auto_refresh_toggle``, ``columns_button``, ``columns_menu``, ``workers_queues_button``,
    ``new_experiment_button``, ``top_bar``) and are wired to its methods.
    """

    def _build_top_bar(self) -> None:
        bar = QWidget()
        bar.setObjectName("topBar")
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        self.view_mode_buttons: dict[str, QToolButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        for mode, tip in (("table", "Table view"), ("details", "Details view"), ("comparison", "Comparison view")):
            button = tool_button(f"viewMode_{mode}", f"view-{mode}", tip, checkable=True)
            group.addButton(button)
            button.clicked.connect(lambda _c=False, m=mode: self.set_view_mode(m))
            layout.addWidget(button)
            self.view_mode_buttons[mode] = button
        self.view_mode_buttons["table"].setChecked(True)
        layout.addSpacing(10)
        self.title_label = QLabel()
        self.title_label.setObjectName("scopeTitle")
        layout.addWidget(self.title_label)
        layout.addStretch(1)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText("Search name, id, description")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setMinimumWidth(260)
        self.search_box.addAction(icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.regex_action = self.search_box.addAction(icons.icon("regex"), QLineEdit.ActionPosition.TrailingPosition)
        self.regex_action.setCheckable(True)
        self.regex_action.setToolTip("Regular expression")
        self.regex_action.toggled.connect(lambda _on: self._apply_search())
        self.search_box.textChanged.connect(lambda _t: self._apply_search())
        layout.addWidget(self.search_box)
        from exptable_desktop.ui.query_box import QueryBox  # the query language: errors and completion
        self.query_box = QueryBox(self, self.search_box, self.regex_action)
        self.clear_filters_button = tool_button("clearFiltersButton", "filter-clear", "Clear all filters",
                                                "Clear filters")
        self.clear_filters_button.clicked.connect(self.clear_filters)
        self.clear_filters_button.setVisible(False)
        layout.addWidget(self.clear_filters_button)
        self.archive_toggle = tool_button("archiveToggle", "archive", "Show archived experiments",
                                          "Open archive", checkable=True)
        self.archive_toggle.toggled.connect(self._set_archive_mode)
        layout.addWidget(self.archive_toggle)
        self.auto_refresh_toggle = tool_button("autoRefreshToggle", "refresh", "Auto-refresh",
                                               "Auto-refresh", checkable=True)
        self.auto_refresh_toggle.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        interval_menu = QMenu(self.auto_refresh_toggle)
        for seconds in REFRESH_CHOICES:
            action = interval_menu.addAction(f"Every {seconds:g} s")
            action.triggered.connect(lambda _c=False, s=seconds: self.set_refresh_interval(s))
        interval_menu.addSeparator()
        interval_menu.addAction("Refresh now", self.refresh_now)
        self.auto_refresh_toggle.setMenu(interval_menu)
        self.auto_refresh_toggle.toggled.connect(self._on_auto_refresh_toggled)
        layout.addWidget(self.auto_refresh_toggle)
        self.columns_button = tool_button("columnsButton", "columns", "Columns", "Columns")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self.columns_button)
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)
        self.columns_button.setMenu(self.columns_menu)
        layout.addWidget(self.columns_button)
        self.workers_queues_button = compact_button("workersQueuesButton", "workers", "Workers && Queues",
                                                    "Workers and queues: what runs where, and what waits")
        self.workers_queues_button.clicked.connect(self.open_workers_queues)
        layout.addWidget(self.workers_queues_button)
        self.new_experiment_button = compact_button("newExperimentButton", "new-experiment", "New Experiment",
                                                    "Create an experiment in this project (Ctrl+N)")
        self.new_experiment_button.clicked.connect(self.open_new_experiment_wizard)
        if getattr(self, "read_only_reason", None):
            self.new_experiment_button.setEnabled(False)
            self.new_experiment_button.setToolTip(f"Read-only database: {self.read_only_reason}")
        layout.addWidget(self.new_experiment_button)
        self.new_experiment_shortcut = QShortcut(QKeySequence("Ctrl+N"), self, self.open_new_experiment_wizard)
        self.top_bar = bar
