"""The details panel: header, the eight tabs, lazy tab loading and live following."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QThread, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QListWidget, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from exptable_desktop.core import details as data
from exptable_desktop.core.database import close_thread_connection, first_line
from exptable_desktop.ui.details.artifacts_tab import ArtifactsTab
from exptable_desktop.ui.details.common import DetailsTab
from exptable_desktop.ui.details.configuration_tab import ConfigurationTab
from exptable_desktop.ui.details.console_tab import ConsoleTab
from exptable_desktop.ui.details.debug_samples_tab import DebugSamplesTab
from exptable_desktop.ui.details.execution_tab import ExecutionTab
from exptable_desktop.ui.details.header import ActionMenuFactory, DetailsHeader
from exptable_desktop.ui.details.info_tab import InfoTab
from exptable_desktop.ui.details.plots_tab import PlotsTab
from exptable_desktop.ui.details.scalars_tab import ScalarsTab
from exptable_desktop.ui.kept_threads import KeptThreads
from exptable_desktop.ui.empty_state import SDK_START, EmptyState
from exptable_desktop.ui.palette import themed

LIVE_POLL_MS = 1500
LAST_TAB_KEY = "details.last_tab"
TAB_LIST_STYLE = themed("""
QListWidget#detailsTabList { border: none; border-right: 1px solid $border_soft; background: transparent; }
QListWidget#detailsTabList::item { padding: 8px 12px; }
QListWidget#detailsTabList::item:selected { background: $accent_soft; color: $accent; font-weight: 600; }
""")


class PollReader(QThread):
    """One live poll's read on its own database connection, off the UI thread: the experiment's live
    state (``core.details.poll``) and, when it moved, what is new for the shown tab (its ``live_read``).

    After ``run``: ``result`` (None if the read failed, then ``error`` says why) and ``news``.
    """

    sig_read = Signal(object)  # this reader, done

    def __init__(self, experiment_id: str, known: data.LiveState | None, tab: DetailsTab,
                 tab_read: tuple[object, Callable[[], object]] | None):
        super().__init__()
        self.experiment_id, self.known, self.tab = experiment_id, known, tab
        self.token, self._tab_read = tab_read if tab_read is not None else (None, None)
        self.result: data.PollResult | None = None
        self.news: object | None = None
        self.error = ""

    def run(self) -> None:
        try:
            self.result = data.poll(self.experiment_id, self.known)
            moved = self.result.state is not None and self.result.state != self.known
            if moved and self._tab_read is not None:
                self.news = self._tab_read()
        except Exception as exc:  # the database went away or is locked: the next tick tries again
            self.result, self.error = None, first_line(exc)
        finally:
            close_thread_connection()  # this thread's connection only
        self.sig_read.emit(self)


# Polls still running, kept referenced until they end: a QThread freed while it runs takes the process down.
_POLLS = KeptThreads()


def wait_for_polls(timeout_ms: int = 5000) -> None:
    """Let the running polls end (tests, and before the database closes)."""
    _POLLS.wait(timeout_ms)


def _wait_for_polls_on_quit() -> None:
    """Once per application: a poll still reading when the application quits ends first."""
    app = QCoreApplication.instance()
    if app is not None and not app.property("exptable_waits_for_polls"):
        app.setProperty("exptable_waits_for_polls", True)
        app.aboutToQuit.connect(wait_for_polls)


class DetailsPanel(QWidget):
    """Shows one experiment. Only the visible tab is loaded; the others load when
    shown. While the panel is visible a poll every 1.5 s reads one small row
    (last update, status, progress, iteration) on a worker thread and, when it
    moved, refreshes the header and lets the visible tab take in only what is new.
    With no experiment, an empty state says how to get one."""

    sig_experiment_link_activated = Signal(str)
    sig_message_posted = Signal(str)
    # The person changed the experiment here (name, tags, configuration...).
    sig_experiment_edited = Signal(str)
    sig_full_screen_toggled = Signal(bool)
    sig_back_to_table_requested = Signal()
    # A live poll's read came back and was applied (whether or not anything had moved).
    sig_polled = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("detailsPanel")
        self.experiment_id: str | None = None
        self._live: data.LiveState | None = None
        self._loaded: dict[DetailsTab, str | None] = {}
        self._poll_running = False
        self.last_poll_error = ""
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.pages = QStackedWidget()
        outer.addWidget(self.pages)
        self.content = QWidget()
        self.empty_state = EmptyState(
            "No experiment selected",
            "Choose an experiment in the list to see its execution, configuration, console, scalars, plots "
            "and debug samples here. No experiments yet? Any Python script records one with two lines:",
            SDK_START.rstrip("\n"), icon="view-details", action="Back to the table", object_name="detailsEmpty")
        self.empty_state.sig_action_clicked.connect(self.sig_back_to_table_requested)
        self.pages.addWidget(self.content)
        self.pages.addWidget(self.empty_state)
        layout = QVBoxLayout(self.content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.header = DetailsHeader()
        layout.addWidget(self.header)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet(themed("color: $border_soft;"))
        layout.addWidget(line)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("detailsTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(True)
        # Full screen lists the tabs on the left, one row each, horizontal text: all eight in view.
        self.tab_list = QListWidget()
        self.tab_list.setObjectName("detailsTabList")
        self.tab_list.setStyleSheet(TAB_LIST_STYLE)
        self.tab_list.hide()
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.tab_list)
        body.addWidget(self.tabs, 1)
        layout.addLayout(body, 1)
        self.execution_tab = ExecutionTab()
        self.configuration_tab = ConfigurationTab()
        self.artifacts_tab = ArtifactsTab()
        self.info_tab = InfoTab()
        self.console_tab = ConsoleTab()
        self.scalars_tab = ScalarsTab()
        self.plots_tab = PlotsTab()
        self.debug_samples_tab = DebugSamplesTab()
        for tab in self.all_tabs():
            self.tabs.addTab(tab, tab.title)
            self.tab_list.addItem(tab.title)
            tab.sig_experiment_link_activated.connect(self.sig_experiment_link_activated)
            tab.sig_message_posted.connect(self.sig_message_posted)
            tab.sig_experiment_edited.connect(self._edited)
        self.header.sig_message_posted.connect(self.sig_message_posted)
        self.header.sig_experiment_edited.connect(self._edited)
        self.header.sig_full_screen_toggled.connect(self.sig_full_screen_toggled)
        self.header.back_button.clicked.connect(self.sig_back_to_table_requested)
        self._full_screen = False
        self._restoring_tab = True
        last = data.load_preference(LAST_TAB_KEY, None) if data.database_open() else None
        titles = [t.title for t in self.all_tabs()]
        if last in titles:
            self.tabs.setCurrentIndex(titles.index(last))
        self._restoring_tab = False
        self.tab_list.setCurrentRow(self.tabs.currentIndex())
        width = self.tab_list.sizeHintForColumn(0) + 2 * self.tab_list.frameWidth() + 8
        self.tab_list.setFixedWidth(width)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.tab_list.currentRowChanged.connect(self._tab_row_chosen)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(LIVE_POLL_MS)
        self.poll_timer.timeout.connect(self.poll)
        self.header.show_header(None)
        self._show_page()

    def all_tabs(self) -> list[DetailsTab]:
        return [self.execution_tab, self.configuration_tab, self.artifacts_tab, self.info_tab,
                self.console_tab, self.scalars_tab, self.plots_tab, self.debug_samples_tab]

    def current_tab(self) -> DetailsTab:
        return self.tabs.currentWidget()

    def select_tab(self, title: str) -> None:
        for index, tab in enumerate(self.all_tabs()):
            if tab.title == title.upper():
                self.tabs.setCurrentIndex(index)
                return
        raise ValueError(f"no tab {title!r}")

    def set_action_menu_factory(self, factory: ActionMenuFactory | None) -> None:
        self.header.set_action_menu_factory(factory)

    # -- Showing an experiment --------------------------------------------------------------
    def show_experiment(self, experiment_id: str | None) -> None:
        experiment_id = experiment_id or None
        if experiment_id == self.experiment_id and experiment_id is not None:
            self.poll()
            return
        self.experiment_id = experiment_id
        info = data.header(experiment_id) if experiment_id else None
        if info is None:
            self.experiment_id = None
        self._live = data.live_state(self.experiment_id) if self.experiment_id else None
        self.header.show_header(info)
        self.tabs.setEnabled(self.experiment_id is not None)
        self.tab_list.setEnabled(self.experiment_id is not None)
        self._show_page()
        self._loaded.clear()
        self._ensure_loaded(self.current_tab())
        self._update_timer()

    def _show_page(self) -> None:
        self.pages.setCurrentWidget(self.content if self.experiment_id is not None else self.empty_state)
        # In full screen the list is hidden: the empty state offers the way back.
        self.empty_state.set_action("Back to the table" if self._full_screen else "")

    def is_empty(self) -> bool:
        return self.pages.currentWidget() is self.empty_state

    def _ensure_loaded(self, tab: DetailsTab) -> None:
        if self._loaded.get(tab, "<none>") != self.experiment_id:
            tab.load(self.experiment_id)
            self._loaded[tab] = self.experiment_id

    def _tab_row_chosen(self, row: int) -> None:
        if row >= 0:
            self.tabs.setCurrentIndex(row)

    def _tab_changed(self, index: int) -> None:
        if self.tab_list.currentRow() != index:
            self.tab_list.blockSignals(True)
            self.tab_list.setCurrentRow(index)
            self.tab_list.blockSignals(False)
        self._ensure_loaded(self.current_tab())
        if not self._restoring_tab and data.database_open():
            data.save_preference(LAST_TAB_KEY, self.current_tab().title)

    # -- Live ------------------------------------------------------------------------------
    def _update_timer(self) -> None:
        if self.experiment_id is not None and self.isVisible():
            self.poll_timer.start()
        else:
            self.poll_timer.stop()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._update_timer()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self._update_timer()

    def poll(self) -> None:
        """Start a poll: its read runs on a worker thread; ``_poll_read`` applies it (``sig_polled``).

        One poll at a time: a tick while the last read still runs (a slow or locked database)
        is skipped rather than queued."""
        if self.experiment_id is None or self._poll_running:
            return
        current = self.current_tab()
        # What the shown tab would read is read along, if it can be read off the UI thread.
        tab_read = current.live_read() if self._loaded.get(current) == self.experiment_id else None
        reader = PollReader(self.experiment_id, self._live, current, tab_read)
        reader.sig_read.connect(self._poll_read)
        _POLLS.add(reader)

        def forget():
            # One slot, in this order: with two, the queued deleteLater could free the thread
            # before the discard ran, leaving a dead object in _POLLS.
            _POLLS.discard(reader)
            reader.deleteLater()
        reader.finished.connect(forget)
        self._poll_running = True
        _wait_for_polls_on_quit()
        reader.start()

    def _poll_read(self, reader: PollReader) -> None:
        """Refresh what changed since the last poll; nothing when nothing moved."""
        self._poll_running = False
        self.last_poll_error = reader.error
        result = reader.result
        if reader.experiment_id != self.experiment_id or result is None:
            # Another experiment meanwhile, or the read failed (the next tick tries again).
            self.sig_polled.emit()
            return
        if result.state is None:  # deleted meanwhile
            self.show_experiment(None)
            self.sig_polled.emit()
            return
        if result.state == self._live:
            self.sig_polled.emit()
            return
        self._live = result.state
        if not self.header.is_editing_description() and result.header is not None:
            self.header.show_header(result.header)
        current = self.current_tab()
        for tab in self.all_tabs():
            if tab is current:
                continue
            # Hidden tabs reload when shown, unless they hold an edit in progress.
            if not tab.is_editing():
                self._loaded.pop(tab, None)
        if self._loaded.get(current) != self.experiment_id:
            self._ensure_loaded(current)
        elif reader.tab is current and reader.news is not None:
            current.apply_live(reader.token, reader.news)
        else:
            current.refresh()
        self.sig_polled.emit()

    def _edited(self) -> None:
        if self.experiment_id is None:
            return
        self._live = data.live_state(self.experiment_id)
        if not self.header.is_editing_description():
            self.header.show_header(data.header(self.experiment_id))
        self.sig_experiment_edited.emit(self.experiment_id)

    # -- Full screen --------------------------------------------------------------------------
    def set_full_screen(self, full: bool) -> None:
        """Tabs listed on the left and the scalar settings in a sidebar, as the reference's full screen."""
        self._full_screen = full
        self.tab_list.setVisible(full)
        self.tabs.tabBar().setVisible(not full)
        self.scalars_tab.set_full_screen(full)
        self.header.full_screen_button.blockSignals(True)
        self.header.full_screen_button.setChecked(full)
        self.header.full_screen_button.blockSignals(False)
        self.header.full_screen_button.setToolTip("Back to the table" if full else "View full screen")
        self.header.full_screen_button.setText("⤡" if full else "⤢")
        self.header.back_button.setVisible(full)
        self._show_page()

    def is_full_screen(self) -> bool:
        return self._full_screen

