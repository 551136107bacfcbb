"""DEBUG SAMPLES: images by iteration (newest first) and metric/variant, and a viewer."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import details as data
from exptable_desktop.ui.details.common import DetailsTab, scrolling_canvas, section_title
from exptable_desktop.ui.empty_state import DEBUG_SAMPLES_SNIPPET

THUMBNAIL = 150
ITERATIONS_PER_PAGE = 12
ALL_METRICS = "All metrics"


def sample_pixmap(sample_id: int) -> QPixmap | None:
    raw = data.debug_sample_bytes(sample_id)
    if raw is None:
        return None
    image = QImage()
    if not image.loadFromData(raw):
        return None
    return QPixmap.fromImage(image)


def _placeholder() -> QPixmap:
    pixmap = QPixmap(THUMBNAIL, THUMBNAIL)
    pixmap.fill(Qt.GlobalColor.lightGray)
    return pixmap


class SampleViewer(QDialog):
    """One sample large; ←/→ the other samples of its iteration, ↑/↓ or the slider its other iterations."""

    def __init__(self, samples: list[dict], current: dict, parent=None):
        super().__init__(parent)
        self.setObjectName("debugSampleViewer")
        self.setWindowTitle("Debug sample")
        self.samples = samples
        self.resize(760, 640)
        layout = QVBoxLayout(self)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.caption)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(320, 240)
        layout.addWidget(self.image, 1)
        controls = QHBoxLayout()
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("sampleIterationSlider")
        self.iteration_label = QLabel()
        controls.addWidget(self.prev_button)
        controls.addWidget(QLabel("Iteration"))
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.iteration_label)
        controls.addWidget(self.next_button)
        layout.addLayout(controls)
        self.prev_button.clicked.connect(lambda: self.step_sample(-1))
        self.next_button.clicked.connect(lambda: self.step_sample(1))
        self.slider.valueChanged.connect(self._slider_moved)
        QShortcut(QKeySequence(Qt.Key.Key_Left), self, lambda: self.step_sample(-1))
        QShortcut(QKeySequence(Qt.Key.Key_Right), self, lambda: self.step_sample(1))
        QShortcut(QKeySequence(Qt.Key.Key_Up), self, lambda: self.slider.setValue(self.slider.value() + 1))
        QShortcut(QKeySequence(Qt.Key.Key_Down), self, lambda: self.slider.setValue(self.slider.value() - 1))
        self.current: dict = current
        self.show_sample(current)

    def _same_series(self) -> list[dict]:
        """This metric/variant at every iteration, oldest first (the slider's order)."""
        key = (self.current["metric"], self.current["variant"])
        found = {}
        for s in self.samples:
            if (s["metric"], s["variant"]) == key:
                found.setdefault(s["iteration"], s)
        return [found[i] for i in sorted(found)]

    def _same_iteration(self) -> list[dict]:
        seen = {}
        for s in self.samples:
            if s["iteration"] == self.current["iteration"]:
                seen.setdefault((s["metric"], s["variant"]), s)
        return [seen[k] for k in sorted(seen)]

    def show_sample(self, sample: dict) -> None:
        self.current = sample
        series = self._same_series()
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(series) - 1))
        self.slider.setValue(next((i for i, s in enumerate(series) if s["id"] == sample["id"]), 0))
        self.slider.blockSignals(False)
        self.iteration_label.setText(str(sample["iteration"]))
        self.caption.setText(f"{sample['metric']} / {sample['variant']}  ·  iteration {sample['iteration']}")
        pixmap = sample_pixmap(sample["id"])
        if pixmap is None:
            self.image.setText(f"Cannot show {sample['content_type'] or 'this sample'}\n{sample['path']}")
        else:
            self.image.setPixmap(pixmap.scaled(self.image.size().expandedTo(QSize(320, 240)),
                                               Qt.AspectRatioMode.KeepAspectRatio,
                                               Qt.TransformationMode.FastTransformation))
        siblings = self._same_iteration()
        self.prev_button.setEnabled(len(siblings) > 1)
        self.next_button.setEnabled(len(siblings) > 1)

    def step_sample(self, direction: int) -> None:
        siblings = self._same_iteration()
        if len(siblings) < 2:
            return
        index = next(i for i, s in enumerate(siblings) if s["id"] == self.current["id"]) \
            if any(s["id"] == self.current["id"] for s in siblings) else 0
        self.show_sample(siblings[(index + direction) % len(siblings)])

    def _slider_moved(self, position: int) -> None:
        series = self._same_series()
        if 0 <= position < len(series):
            self.show_sample(series[position])


class DebugSamplesTab(DetailsTab):
    """The details panel's DEBUG SAMPLES tab: the experiment's images, newest iteration first, filtered by metric
    and shown a page at a time; a click opens the viewer."""

    title = "DEBUG SAMPLES"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("debugSamplesTab")
        self.samples: list[dict] = []
        self.viewer: SampleViewer | None = None
        self._count = 0
        self._pages = 1
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Metric"))
        self.metric_combo = QComboBox()
        self.metric_combo.setObjectName("sampleMetricFilter")
        self.metric_combo.setMinimumWidth(180)
        bar.addWidget(self.metric_combo)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.stack = scrolling_canvas(self, "No debug samples reported yet",
                                      "Images and other media appear here, newest iteration first, as the "
                                      "experiment reports them. To report one from a script:", DEBUG_SAMPLES_SNIPPET)
        layout.addWidget(self.stack, 1)
        self.thumbnails: list[QToolButton] = []
        self.metric_combo.currentIndexChanged.connect(self._render)

    def load(self, experiment_id: str | None) -> None:
        self.experiment_id = experiment_id
        self.samples = data.debug_samples(experiment_id) if experiment_id else []
        self._count = len(self.samples)
        self._pages = 1
        metric = self.metric_combo.currentText()
        metrics = sorted({s["metric"] for s in self.samples})
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        self.metric_combo.addItems([ALL_METRICS] + metrics)
        self.metric_combo.setCurrentIndex(max(0, self.metric_combo.findText(metric)))
        self.metric_combo.blockSignals(False)
        self._render()

    def refresh(self) -> None:
        if self.experiment_id is not None and data.debug_sample_count(self.experiment_id) != self._count:
            self.load(self.experiment_id)

    def filtered(self) -> list[dict]:
        metric = self.metric_combo.currentText()
        return [s for s in self.samples if metric in ("", ALL_METRICS) or s["metric"] == metric]

    def _render(self) -> None:
        while self.canvas_layout.count():
            item = self.canvas_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.thumbnails = []
        samples = self.filtered()
        by_iteration: dict[int, dict] = {}
        for s in samples:  # newest iteration first; the newest sample per metric/variant
            by_iteration.setdefault(s["iteration"], {}).setdefault((s["metric"], s["variant"]), s)
        iterations = list(by_iteration)[:ITERATIONS_PER_PAGE * self._pages]
        for iteration in iterations:
            self.canvas_layout.addWidget(section_title(f"ITERATION {iteration}"))
            row = QWidget()
            grid = QGridLayout(row)
            grid.setContentsMargins(0, 0, 0, 8)
            grid.setAlignment(Qt.AlignmentFlag.AlignLeft)
            columns = max(1, (self.scroll.viewport().width() - 20) // (THUMBNAIL + 16))
            for n, sample in enumerate(by_iteration[iteration][k] for k in sorted(by_iteration[iteration])):
                button = QToolButton()
                button.setObjectName("debugSampleThumbnail")
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
                button.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
                pixmap = sample_pixmap(sample["id"])
                if pixmap is not None:
                    # Small images (often a few dozen pixels) are scaled up to the thumbnail size too.
                    pixmap = pixmap.scaled(THUMBNAIL, THUMBNAIL, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation)
                button.setIcon(pixmap if pixmap is not None else _placeholder())
                button.setText(f"{sample['metric']} / {sample['variant']}")
                button.setToolTip(sample["path"] or f"{sample['metric']} / {sample['variant']}")
                button.setAutoRaise(True)
                button.clicked.connect(lambda _=False, s=sample: self.open_viewer(s))
                grid.addWidget(button, n // columns, n % columns)
                self.thumbnails.append(button)
            self.canvas_layout.addWidget(row)
        if len(by_iteration) > len(iterations):
            more = QPushButton(f"Show older iterations ({len(by_iteration) - len(iterations)} more)")
            more.clicked.connect(self._more)
            self.canvas_layout.addWidget(more)
        self.canvas_layout.addStretch(1)
        self.stack.setCurrentWidget(self.scroll if samples else self.empty_label)

    def _more(self) -> None:
        self._pages += 1
        self._render()

    def open_viewer(self, sample: dict) -> SampleViewer:
        if self.viewer is not None:
            self.viewer.close()
        self.viewer = SampleViewer(self.filtered(), sample, self)
        self.viewer.show()
        return self.viewer
