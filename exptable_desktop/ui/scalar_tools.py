"""The scalar plot tools that an experiment's SCALARS tab and the compare page's SCALARS tab
both show: x-axis choice, smoothing method with its parameters, Show originals, log scale and
line width. Each owner lays the widgets out and keeps its own settings object; this module
only builds the widgets and moves values between them and the settings."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from exptable_desktop.core import smoothing

X_ITERATIONS = "iter"
X_TIME_FROM_START = "timestamp"
X_WALL_TIME = "iso_time"
X_AXIS_CHOICES = {X_ITERATIONS: "Iterations", X_TIME_FROM_START: "Time from start", X_WALL_TIME: "Wall time"}

SettingsType = TypeVar("SettingsType", bound="ScalarToolSettings")


@dataclass
class ScalarToolSettings:
    """The values of the tools; each tab's settings add their own fields."""

    x_axis: str = X_ITERATIONS
    method: str = smoothing.NO_SMOOTHING
    alpha: float = 0.6
    window: int = 5
    kernel: int = 7
    sigma: float = 1.0
    show_originals: bool = True
    log_y: bool = False
    # Wider pens are drawn as stroked paths, ~10x slower with 100 curves: 1 unless asked.
    line_width: float = 1.0

    def to_json(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls: type[SettingsType], raw) -> SettingsType:
        """The saved values that still fit; a value of another type (``true`` for a window) is dropped."""
        settings = cls()
        if isinstance(raw, dict):
            for key, value in raw.items():
                if hasattr(settings, key) and type(value) is type(getattr(settings, key)):
                    setattr(settings, key, value)
        return settings


class ScalarTools:
    """The widgets, named ``<prefix>XAxis``, ``<prefix>Smoothing`` and ``<prefix>LogScale``.

    ``show`` and ``read_into`` take a ``ScalarToolSettings``. ``odd_sizes`` makes window and
    kernel odd when read (a typed even number rounds up).
    """

    def __init__(self, prefix: str, alpha_step: float, odd_sizes: bool = False):
        self.odd_sizes = odd_sizes
        self.axis_combo = QComboBox()
        self.axis_combo.setObjectName(f"{prefix}XAxis")
        for key, label in X_AXIS_CHOICES.items():
            self.axis_combo.addItem(label, key)
        self.smoothing_combo = QComboBox()
        self.smoothing_combo.setObjectName(f"{prefix}Smoothing")
        for key in smoothing.METHODS:
            self.smoothing_combo.addItem(smoothing.METHOD_LABELS[key], key)
        self.alpha_spin = QDoubleSpinBox()
        self.alpha_spin.setRange(*smoothing.EMA_ALPHA_RANGE)
        self.alpha_spin.setSingleStep(alpha_step)
        self.alpha_spin.setDecimals(3)
        self.alpha_spin.setPrefix("Alpha ")
        self.window_spin = QSpinBox()
        self.window_spin.setRange(*smoothing.RUNNING_WINDOW_RANGE)
        self.window_spin.setSingleStep(2)
        self.window_spin.setPrefix("Window ")
        self.kernel_spin = QSpinBox()
        self.kernel_spin.setRange(*smoothing.GAUSSIAN_KERNEL_RANGE)
        self.kernel_spin.setSingleStep(2)
        self.kernel_spin.setPrefix("Kernel ")
        self.sigma_spin = QDoubleSpinBox()
        self.sigma_spin.setRange(*smoothing.GAUSSIAN_SIGMA_RANGE)
        self.sigma_spin.setSingleStep(0.1)
        self.sigma_spin.setDecimals(1)
        self.sigma_spin.setPrefix("Sigma ")
        self.originals_check = QCheckBox("Show originals")
        self.log_check = QCheckBox("Log scale")
        self.log_check.setObjectName(f"{prefix}LogScale")
        self.width_spin = QDoubleSpinBox()
        self.width_spin.setRange(0.5, 7.0)
        self.width_spin.setSingleStep(0.5)
        self.width_spin.setDecimals(1)
        self.width_spin.setPrefix("Line ")

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.axis_combo, self.smoothing_combo, self.alpha_spin, self.window_spin, self.kernel_spin,
                self.sigma_spin, self.originals_check, self.log_check, self.width_spin)

    def smoothing_widgets(self) -> tuple[QWidget, ...]:
        """The method and the parameters that go with it, in the order they stand in a row."""
        return (self.smoothing_combo, self.alpha_spin, self.window_spin, self.kernel_spin, self.sigma_spin,
                self.originals_check)

    def connect(self, slot) -> None:
        """Call ``slot`` (without arguments) whenever the user changes any of the tools."""
        for combo in (self.axis_combo, self.smoothing_combo):
            combo.currentIndexChanged.connect(lambda _i: slot())
        for spin in (self.alpha_spin, self.window_spin, self.kernel_spin, self.sigma_spin, self.width_spin):
            spin.valueChanged.connect(lambda _v: slot())
        for check in (self.originals_check, self.log_check):
            check.toggled.connect(lambda _on: slot())

    def show(self, settings: ScalarToolSettings) -> None:
        """Put ``settings`` into the widgets; the caller keeps their signals from reading back."""
        self.axis_combo.setCurrentIndex(max(0, self.axis_combo.findData(settings.x_axis)))
        self.smoothing_combo.setCurrentIndex(max(0, self.smoothing_combo.findData(settings.method)))
        self.alpha_spin.setValue(settings.alpha)
        self.window_spin.setValue(settings.window)
        self.kernel_spin.setValue(settings.kernel)
        self.sigma_spin.setValue(settings.sigma)
        self.originals_check.setChecked(settings.show_originals)
        self.log_check.setChecked(settings.log_y)
        self.width_spin.setValue(settings.line_width)

    def read_into(self, settings: ScalarToolSettings) -> None:
        size = (lambda value: value | 1) if self.odd_sizes else (lambda value: value)
        settings.x_axis = self.axis_combo.currentData()
        settings.method = self.smoothing_combo.currentData()
        settings.alpha = self.alpha_spin.value()
        settings.window = size(self.window_spin.value())
        settings.kernel = size(self.kernel_spin.value())
        settings.sigma = self.sigma_spin.value()
        settings.show_originals = self.originals_check.isChecked()
        settings.log_y = self.log_check.isChecked()
        settings.line_width = self.width_spin.value()

    def show_parameters(self, method: str) -> None:
        """Show only the parameters of ``method``; Show originals is the owner's to show or grey."""
        self.alpha_spin.setVisible(method == smoothing.EMA)
        self.window_spin.setVisible(method == smoothing.RUNNING_AVERAGE)
        self.kernel_spin.setVisible(method == smoothing.GAUSSIAN)
        self.sigma_spin.setVisible(method == smoothing.GAUSSIAN)
