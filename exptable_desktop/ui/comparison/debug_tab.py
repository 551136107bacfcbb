"""DEBUG SAMPLES of the compare page: a column per experiment, one metric at one iteration.

With "Sync" on (the default) the metric chooser and the older / newer /
newest buttons above the columns drive every column: each shows its samples
at the chosen iteration, or at its last iteration before it. With Sync off
every column has its own metric and iteration buttons. Images are read for
the columns in view only, in one query.
"""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import compare_data
from exptable_desktop.core.compare_palette import ComparedExperiment
from exptable_desktop.ui.comparison.common import swatch_icon
from exptable_desktop.ui.comparison.plot_pages import scrolled_page
from exptable_desktop.ui.details.debug_samples_tab import SampleViewer
from exptable_desktop.ui.palette import themed

COLUMN_WIDTH = 220
THUMBNAIL = 196


def _iterations(samples: list[dict], metric: str) -> list[int]:
    """The iterations at which ``metric`` has samples, newest first."""
    return sorted({s["iteration"] for s in samples if s["metric"] == metric}, reverse=True)


def _at(samples: list[dict], metric: str, iteration: int | None) -> tuple[int | None, list[dict]]:
    """The samples of ``metric`` at the newest iteration not after ``iteration`` (None = newest)."""
    candidates = [i for i in _iterations(samples, metric) if iteration is None or i <= iteration]
    if not candidates:
        return None, []
    chosen = candidates[0]
    seen = {}
    for s in samples:
        if s["metric"] == metric and s["iteration"] == chosen:
            seen.setdefault(s["variant"], s)  # newest first: the first of a variant wins
    return chosen, [seen[v] for v in sorted(seen)]


def _nav_button(text: str, tip: str, name: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setObjectName(name)
    return button


class DebugColumn(QFrame):
    """One experiment's samples of one metric at one iteration."""

    def __init__(self, tab: "DebugSamplesTab", experiment: ComparedExperiment, samples: list[dict]):
        super().__init__()
        self.setObjectName("compareDebugColumn")
        self.setFixedWidth(COLUMN_WIDTH)
        self.setStyleSheet(themed("#compareDebugColumn { background: $surface; border: 1px solid $border; border-radius: 4px; }"))
        self.tab = tab
        self.experiment = experiment
        self.samples = samples
        self.metric_name: str | None = None
        self.iteration: int | None = None
        self.shown: list[dict] = []
        self.loaded = False
        swatch = QLabel()
        swatch.setPixmap(swatch_icon(experiment.colour, experiment.dash, 12).pixmap(24, 12))
        name = QLabel(name_text := experiment.name)
        name.setToolTip(name_text)
        name.setText(name.fontMetrics().elidedText(name_text, Qt.TextElideMode.ElideRight, COLUMN_WIDTH - 50))
        name.setStyleSheet("font-weight: bold;")
        header = QHBoxLayout()
        header.addWidget(swatch)
        header.addWidget(name, 1)
        self.metric_combo = QComboBox()
        self.metric_combo.setObjectName("debugColumnMetric")
        for metric in sorted({s["metric"] for s in samples}):
            self.metric_combo.addItem(metric, metric)
        self.older = _nav_button("‹ Older", "Older iteration", "debugColumnOlder")
        self.newer = _nav_button("Newer ›", "Newer iteration", "debugColumnNewer")
        self.newest = _nav_button("Newest", "Newest iteration", "debugColumnNewest")
        nav = QHBoxLayout()
        nav.setSpacing(2)
        for button in (self.older, self.newer, self.newest):
            nav.addWidget(button)
        self.iteration_label = QLabel()
        self.iteration_label.setObjectName("debugColumnIteration")
        self.iteration_label.setStyleSheet(themed("color: $text_secondary;"))
        self.images = QVBoxLayout()
        self.images.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addWidget(self.metric_combo)
        layout.addLayout(nav)
        layout.addWidget(self.iteration_label)
        layout.addLayout(self.images)
        layout.addStretch(1)
        self.metric_combo.currentIndexChanged.connect(
            lambda _i: self.show_metric(self.metric_combo.currentData(), None))
        self.older.clicked.connect(lambda: self.step(+1))
        self.newer.clicked.connect(lambda: self.step(-1))
        self.newest.clicked.connect(lambda: self.show_metric(self.metric_name, None))

    def set_synced(self, synced: bool) -> None:
        for widget in (self.metric_combo, self.older, self.newer, self.newest):
            widget.setEnabled(not synced)

    def show_metric(self, metric: str | None, iteration: int | None) -> None:
        self.metric_name = metric
        self.metric_combo.blockSignals(True)
        self.metric_combo.setCurrentIndex(self.metric_combo.findData(metric))
        self.metric_combo.blockSignals(False)
        self.iteration, self.shown = _at(self.samples, metric, iteration) if metric else (None, [])
        iterations = _iterations(self.samples, metric) if metric else []
        position = iterations.index(self.iteration) if self.iteration in iterations else -1
        self.older.setEnabled(not self.tab.synced() and 0 <= position < len(iterations) - 1)
        self.newer.setEnabled(not self.tab.synced() and position > 0)
        if self.iteration is None:
            self.iteration_label.setText("No sample of this metric" if not iterations
                                         else "No sample at or before this iteration")
        else:
            self.iteration_label.setText(f"Iteration {self.iteration}")
        self.loaded = False
        while self.images.count():
            item = self.images.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.tab.schedule_load()

    def step(self, direction: int) -> None:
        """+1 = older, -1 = newer, within this column's iterations of its metric."""
        iterations = _iterations(self.samples, self.metric_name) if self.metric_name else []
        if self.iteration not in iterations:
            return
        position = iterations.index(self.iteration) + direction
        if 0 <= position < len(iterations):
            self.show_metric(self.metric_name, iterations[position])

    def fill(self, contents: dict[int, bytes]) -> None:
        self.loaded = True
        for sample in self.shown:
            button = QPushButton()
            button.setObjectName("debugThumbnail")
            button.setFlat(True)
            button.setToolTip(f"{sample['metric']} / {sample['variant']} · iteration {sample['iteration']}")
            image = QImage()
            raw = contents.get(sample["id"])
            if raw is not None and image.loadFromData(raw):
                pixmap = QPixmap.fromImage(image).scaled(QSize(THUMBNAIL, THUMBNAIL),
                                                         Qt.AspectRatioMode.KeepAspectRatio,
                                                         Qt.TransformationMode.SmoothTransformation)
                button.setIcon(pixmap)
                button.setIconSize(pixmap.size())
            else:
                button.setText(f"Cannot show\n{sample['content_type'] or sample['path']}")
            button.clicked.connect(lambda _c=False, s=sample: self.tab.open_viewer(self.experiment.id, s))
            caption = QLabel(sample["variant"])
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setStyleSheet(themed("color: $text_secondary;"))
            caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            self.images.addWidget(button)
            self.images.addWidget(caption)


class DebugSamplesTab(QWidget):
    """The compare page's DEBUG SAMPLES tab: a column of images per compared experiment, moved together by the
    Sync bar or one by one (see the module docstring)."""

    title = "DEBUG SAMPLES"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("compareDebugTab")
        self._experiments: list[ComparedExperiment] = []
        self._samples: dict[str, list[dict]] = {}
        self._columns: dict[str, DebugColumn] = {}
        self._iteration: int | None = None
        self.metric_combo = QComboBox()
        self.metric_combo.setObjectName("debugMetric")
        # A long metric name is elided, not allowed to widen the bar (and with it the window).
        self.metric_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.metric_combo.setMinimumContentsLength(16)
        self.sync_check = QCheckBox("Sync")
        self.sync_check.setObjectName("debugSync")
        self.sync_check.setToolTip("Link the metric and the iteration across the experiments")
        self.sync_check.setChecked(True)
        self.older = _nav_button("‹ Older", "Older iteration in every column", "debugOlder")
        self.newer = _nav_button("Newer ›", "Newer iteration in every column", "debugNewer")
        self.newest = _nav_button("Newest", "Newest iteration in every column", "debugNewest")
        self.iteration_label = QLabel()
        self.iteration_label.setObjectName("debugIteration")
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 4)
        bar.addWidget(QLabel("Metric"))
        bar.addWidget(self.metric_combo)
        bar.addSpacing(12)
        for widget in (self.older, self.newer, self.newest, self.iteration_label):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.sync_check)
        self.inner = QWidget()
        self.row = QHBoxLayout(self.inner)
        self.row.setContentsMargins(8, 4, 8, 8)
        self.row.setSpacing(8)
        self.row.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.scroll, self.empty_label, self.stack = scrolled_page(
            self, bar, self.inner, "compareDebugScroll", "NO DEBUG SAMPLES TO COMPARE")
        self._load_timer = QTimer(self)
        self._load_timer.setSingleShot(True)
        self._load_timer.setInterval(0)
        self._load_timer.timeout.connect(self.load_visible)
        self.scroll.horizontalScrollBar().valueChanged.connect(lambda _v: self._load_timer.start())
        self.metric_combo.currentIndexChanged.connect(lambda _i: self.set_iteration(None))
        self.sync_check.toggled.connect(self._sync_toggled)
        self.older.clicked.connect(lambda: self.step(+1))
        self.newer.clicked.connect(lambda: self.step(-1))
        self.newest.clicked.connect(lambda: self.set_iteration(None))

    # -- Page interface ----------------------------------------------------------------------
    def set_experiments(self, experiments: list[ComparedExperiment]) -> None:
        same = [e.id for e in experiments] == [e.id for e in self._experiments] and self._experiments
        styled_same = experiments == self._experiments
        self._experiments = list(experiments)
        if same and not styled_same:
            for experiment in experiments:
                column = self._columns.get(experiment.id)
                if column is not None:
                    column.setVisible(not experiment.hidden)
            if any(e.colour != c.experiment.colour for e in experiments
                   for c in [self._columns.get(e.id)] if c is not None):
                self._build_columns()
            self._load_timer.start()
            return
        if same:
            return
        ids = [e.id for e in experiments]
        self._samples = compare_data.debug_samples(ids) if ids else {}
        metrics = sorted({s["metric"] for samples in self._samples.values() for s in samples})
        current = self.metric_combo.currentData()
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        for metric in metrics:
            self.metric_combo.addItem(metric, metric)
        self.metric_combo.setCurrentIndex(max(0, self.metric_combo.findData(current)))
        self.metric_combo.blockSignals(False)
        self._build_columns()

    def hide_identical(self, on: bool) -> None:
        """Nothing to hide here: every column shows a different run's images."""

    def refresh(self) -> None:
        experiments = self._experiments
        self._experiments = []
        self.set_experiments(experiments)

    # -- Columns ----------------------------------------------------------------------------
    def _build_columns(self) -> None:
        for column in self._columns.values():
            self.row.removeWidget(column)
            column.hide()
            column.deleteLater()
        self._columns = {}
        for experiment in self._experiments:
            column = DebugColumn(self, experiment, self._samples.get(experiment.id, []))
            self._columns[experiment.id] = column
            self.row.addWidget(column)  # parented first: a parentless widget shown is a window
            column.setVisible(not experiment.hidden)
        has_any = any(self._samples.values())
        self.stack.setCurrentWidget(self.scroll if has_any else self.empty_label)
        self.set_iteration(self._iteration if self.synced() else None)
        if not self.synced():
            for column in self._columns.values():
                column.set_synced(False)
                column.show_metric(column.metric_combo.currentData(), None)

    def synced(self) -> bool:
        return self.sync_check.isChecked()

    def current_metric(self) -> str | None:
        return self.metric_combo.currentData()

    def iterations(self) -> list[int]:
        """Every iteration of the chosen metric across the experiments, newest first."""
        metric = self.current_metric()
        return sorted({s["iteration"] for samples in self._samples.values() for s in samples
                       if s["metric"] == metric}, reverse=True)

    def set_iteration(self, iteration: int | None) -> None:
        """Synced: every column shows the metric at ``iteration`` (None = the newest of all)."""
        iterations = self.iterations()
        if iteration is None or iteration not in iterations:
            iteration = iterations[0] if iterations else None
        self._iteration = iteration
        position = iterations.index(iteration) if iteration in iterations else -1
        synced = self.synced()
        self.metric_combo.setEnabled(synced)
        self.older.setEnabled(synced and 0 <= position < len(iterations) - 1)
        self.newer.setEnabled(synced and position > 0)
        self.newest.setEnabled(synced)
        self.iteration_label.setText(f"Iteration {iteration}" if iteration is not None and synced else "")
        if synced:
            for column in self._columns.values():
                column.set_synced(True)
                column.show_metric(self.current_metric(), iteration)

    def step(self, direction: int) -> None:
        iterations = self.iterations()
        if self._iteration in iterations:
            position = iterations.index(self._iteration) + direction
            if 0 <= position < len(iterations):
                self.set_iteration(iterations[position])

    def _sync_toggled(self, on: bool) -> None:
        if on:
            self.set_iteration(self._iteration)
        else:
            self.set_iteration(self._iteration)
            for column in self._columns.values():
                column.set_synced(False)
                column.show_metric(column.metric_name, column.iteration)

    def column(self, exp_id: str) -> DebugColumn | None:
        return self._columns.get(exp_id)

    # -- Images -----------------------------------------------------------------------------
    def schedule_load(self) -> None:
        self._load_timer.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._load_timer.start()

    def load_visible(self, everything: bool = False) -> None:
        """Read the images of the columns in view (all with ``everything``) in one query."""
        start = self.scroll.horizontalScrollBar().value()
        area = QRect(start - COLUMN_WIDTH, 0, self.scroll.viewport().width() + 2 * COLUMN_WIDTH, 100_000)
        wanted = [c for c in self._columns.values()
                  if not c.loaded and not c.experiment.hidden
                  and (everything or (self.isVisible() and c.geometry().intersects(area)))]
        if not wanted:
            return
        contents = compare_data.debug_sample_bytes_many([s["id"] for c in wanted for s in c.shown])
        for column in wanted:
            column.fill(contents)

    def open_viewer(self, exp_id: str, sample: dict) -> SampleViewer:
        viewer = SampleViewer(self._samples.get(exp_id, []), sample, self)
        viewer.show()
        return viewer
