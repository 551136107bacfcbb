"""The details panel (every tab of one experiment, live) and its place in the main window."""
from exptable_desktop.ui.details.install import DetailsController, install_details
from exptable_desktop.ui.details.panel import DetailsPanel

__all__ = ["DetailsPanel", "DetailsController", "install_details"]
