"""The batch action bar under the table, shown while one or more rows are checked."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QSize, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QToolBar, QToolButton, QWidget

from exptable_desktop.ui import icons
from exptable_desktop.ui.actions.eligibility import BAR_ORDER, LABELS, entries_for

BAR_LABELS = {**LABELS, "add_tags": "Tags ▾", "move": "Move to…", "delete": "Delete…"}
BAR_ICON_SIZE = 16
# In a bar too narrow for every label these entries show only their icon (their tooltips name them),
# in this order, before any entry moves into the ">>" menu; Compare, Archive, Tags and Move keep theirs.
COMPACT_ORDER = ("abort_children", "dequeue", "retry", "abort", "publish", "reset", "enqueue")
# Qt's name for the ">>" button of a tool bar whose actions do not all fit.
EXTENSION_NAME = "qt_toolbar_ext_button"

BAR_STYLE = """
QFrame#batchActionBar { background: palette(alternate-base); border-top: 1px solid palette(mid); }
QFrame#batchActionBar QToolBar { border: none; background: transparent; spacing: 1px; }
QFrame#batchActionBar QToolButton { padding: 3px 5px; border: 1px solid transparent; border-radius: 3px; }
QFrame#batchActionBar QToolButton:hover:enabled { border-color: palette(mid); background: palette(button); }
QFrame#batchActionBar QToolButton:checked { border-color: palette(highlight); }
QFrame#batchActionBar QToolButton:disabled { color: palette(mid); }
QFrame#batchActionBar QToolButton#qt_toolbar_ext_button { padding: 3px 2px; }
"""


class BatchActionBar(QFrame):
    """Compare, Archive/Restore, Delete, Enqueue … Tags, Move to, with counts in tooltips.

    The entries sit in a QToolBar: what does not fit moves into its ">>" menu,
    so the bar never makes the window wider than the window needs without it.
    """

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("batchActionBar")
        self.setStyleSheet(BAR_STYLE)
        self.controller = controller
        self.window = controller.window
        self.actions_by_key: dict[str, QAction] = {}
        self.buttons: dict[str, QToolButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 3, 8, 3)
        layout.setSpacing(2)
        self.count_label = QLabel()
        self.count_label.setObjectName("batchCount")
        self.count_label.setStyleSheet("font-weight: 600; padding-right: 6px;")
        layout.addWidget(self.count_label)
        self.show_only_button = QToolButton()
        self.show_only_button.setObjectName("showOnlySelected")
        self.show_only_button.setCheckable(True)
        self.show_only_button.setIcon(icons.icon("funnel"))
        self.show_only_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.show_only_button.setToolTip("Show only the checked experiments in the table")
        self.show_only_button.toggled.connect(self._show_only_toggled)
        layout.addWidget(self.show_only_button)
        self.toolbar = QToolBar()
        self.toolbar.setObjectName("batchActions")
        self.toolbar.setMovable(False)
        self.toolbar.setFloatable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.setIconSize(QSize(BAR_ICON_SIZE, BAR_ICON_SIZE))
        layout.addWidget(self.toolbar, 1)
        self.toolbar.installEventFilter(self)
        self._fitting = False
        self.extension_button().setToolTip("More actions: those that do not fit in the bar")
        self._archive_mode: bool | None = None
        # Parts that add entries after the built-in ones (ui.custom_actions_ui): ``rebuild(bar)`` when the
        # entries are made again, ``update(bar, ids)`` when the counts change.
        self.extensions: list = []

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self.update_state)
        self.window.sig_checked_changed.connect(self.schedule_update)
        self.window.sig_archive_mode_changed.connect(lambda _: self.schedule_update())
        # Auto-refresh changes states under a selection; a search cancels show-only.
        self.window.sig_refreshed.connect(self.schedule_update)
        self.window.sig_show_only_checked_changed.connect(self._follow_show_only)
        controller.sig_action_done.connect(lambda _: self.schedule_update())
        self.hide()
        self.update_state()

    def enterEvent(self, event) -> None:
        # States change under a selection (auto-refresh, workers); recount before a click.
        self.update_state()
        super().enterEvent(event)

    def schedule_update(self) -> None:
        self._timer.start()

    def _rebuild(self, archive_mode: bool) -> None:
        for action in self.toolbar.actions():  # the entries and the separators
            self.toolbar.removeAction(action)
            action.deleteLater()
        self.actions_by_key = {}
        self.buttons = {}
        self.toolbar.addSeparator()
        for key in entries_for(BAR_ORDER, archive_mode):
            if key == "|":
                self.toolbar.addSeparator()
                continue
            action = QAction(icons.action_icon(key), BAR_LABELS[key], self.toolbar)
            # A tool button shows the icon text, which Qt derives by dropping "…": "Move to…" read "Move to".
            action.setIconText(BAR_LABELS[key])
            action.setObjectName(f"bar_{key}")
            action.triggered.connect(lambda _=False, k=key: self.trigger(k))
            self.toolbar.addAction(action)
            button = self.toolbar.widgetForAction(action)
            button.setObjectName(f"bar_{key}")
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            self.actions_by_key[key] = action
            self.buttons[key] = button
        for extension in self.extensions:
            extension.rebuild(self)
        self._archive_mode = archive_mode
        self.fit_labels()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.toolbar and event.type() == QEvent.Type.Resize:
            self.fit_labels()
        return False

    def compacted_keys(self) -> list[str]:
        """Entries showing only their icon because the bar has no room for their labels."""
        return [key for key, button in self.buttons.items()
                if button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly]

    def fit_labels(self) -> None:
        """Every label while the bar has room; else COMPACT_ORDER's entries drop theirs, one at a time."""
        if self._fitting or not self.buttons:
            return
        self._fitting = True
        try:
            for button in self.buttons.values():
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            layout = self.toolbar.layout()
            margins = layout.contentsMargins()
            widgets = [self.toolbar.widgetForAction(a) for a in self.toolbar.actions() if a.isVisible()]
            widgets = [w for w in widgets if w is not None]
            spare = (self.toolbar.contentsRect().width() - margins.left() - margins.right()
                     - layout.spacing() * max(0, len(widgets) - 1))
            needed = sum(w.sizeHint().width() for w in widgets)
            for key in COMPACT_ORDER:
                button = self.buttons.get(key)
                if needed <= spare:
                    break
                if button is None:
                    continue
                full = button.sizeHint().width()
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
                needed -= full - button.sizeHint().width()
        finally:
            self._fitting = False

    def update_state(self) -> None:
        archive_mode = bool(self.window.is_archive_mode())
        if archive_mode != self._archive_mode:
            self._rebuild(archive_mode)
        ids = self.window.checked_ids()
        if not ids:
            if self.show_only_button.isChecked():
                self.show_only_button.setChecked(False)  # else the table would show nothing
            self.hide()
            return
        counts = self.controller.eligibility(ids)
        self.count_label.setText(f"{len(ids):,} selected")
        self.show_only_button.setText("Show all" if self.show_only_button.isChecked()
                                      else f"Show only {len(ids):,} selected")
        for key, action in self.actions_by_key.items():
            action.setEnabled(counts.count(key) > 0)
            action.setToolTip(counts.tooltip(key))
        for extension in self.extensions:
            extension.update(self, ids)
        self.show()

    # -- What fits ------------------------------------------------------------------------------
    def extension_button(self) -> QToolButton | None:
        """The ">>" button; visible only while some entries do not fit."""
        return self.toolbar.findChild(QToolButton, EXTENSION_NAME)

    def overflow_menu(self) -> QMenu | None:
        button = self.extension_button()
        return button.menu() if button is not None and button.isVisible() else None

    def overflowed_keys(self) -> list[str]:
        """Entries reached through the ">>" menu because their buttons do not fit."""
        menu = self.overflow_menu()
        listed = set(menu.actions()) if menu is not None else set()
        return [key for key, action in self.actions_by_key.items() if action in listed]

    def trigger(self, key: str) -> None:
        ids = self.window.checked_ids()
        if key == "add_tags":
            anchor = self.buttons[key]
            if not anchor.isVisible():  # chosen from the ">>" menu
                anchor = self.extension_button() or self
            menu = self.controller.tag_menu(ids)
            menu.aboutToHide.connect(menu.deleteLater)
            # Above the button: the bar sits at the bottom of the window.
            menu.popup(anchor.mapToGlobal(QPoint(0, -menu.sizeHint().height())))
            return
        self.controller.run(key, ids)

    def _show_only_toggled(self, on: bool) -> None:
        if self.window.is_show_only_checked() != on:
            self.window.set_show_only_checked(on)
        self.update_state()

    def _follow_show_only(self, on: bool) -> None:
        if self.show_only_button.isChecked() != on:
            self.show_only_button.blockSignals(True)
            self.show_only_button.setChecked(on)
            self.show_only_button.blockSignals(False)
        self.schedule_update()
