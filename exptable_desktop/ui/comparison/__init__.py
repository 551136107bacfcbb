"""The compare page: the checked (or first visible) experiments side by side, in tabs."""
from exptable_desktop.ui.comparison.install import ComparisonController, install_comparison
from exptable_desktop.ui.comparison.page import ComparePage

# The page replaced the scalars-only view under the same objectName; the old name stays importable.
ComparisonView = ComparePage

__all__ = ["ComparePage", "ComparisonController", "ComparisonView", "install_comparison"]
