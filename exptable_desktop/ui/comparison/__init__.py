"""The comparison view: the scalars of the checked (or first visible) experiments, overlaid."""
from exptable_desktop.ui.comparison.install import ComparisonController, install_comparison
from exptable_desktop.ui.comparison.view import ComparisonView

__all__ = ["ComparisonController", "ComparisonView", "install_comparison"]
