"""The row's menu button: a "⋮" over the hovered row's NAME cell that opens the same menu as a right-click.

The table draws no such button itself; this sits on its viewport from outside,
following the mouse, so a person who does not right-click still finds the
row's actions (issue 5: "Right-click a row (or the row's menu button)").
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, QPoint, Qt
from PySide6.QtWidgets import QTableView, QToolButton

from exptable_desktop.ui.roles import ColumnKeyRole, IdRole

MARGIN = 3


class RowMenuButton(QObject):
    """The "⋮" button that follows the mouse over the table's rows (as the viewport's event filter) and opens the
    hovered row's experiment menu."""

    def __init__(self, controller, view: QTableView):
        super().__init__(view)
        self.controller = controller
        self.view = view
        self.experiment_id: str | None = None
        self.button = QToolButton(view.viewport())
        self.button.setObjectName("rowMenuButton")
        self.button.setText("⋮")
        self.button.setToolTip("Actions for this experiment")
        self.button.setAutoRaise(True)
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.setStyleSheet("QToolButton { background: palette(base); border: 1px solid palette(mid); "
                                  "border-radius: 3px; padding: 0 4px; font-weight: bold; }")
        self.button.hide()
        self.button.clicked.connect(self.open_menu)
        view.viewport().setMouseTracking(True)
        view.viewport().installEventFilter(self)
        # Rows move under a still mouse: hide until it moves again.
        view.verticalScrollBar().valueChanged.connect(self.hide)
        view.horizontalScrollBar().valueChanged.connect(self.hide)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        kind = event.type()
        if kind == QEvent.Type.MouseMove:
            self.follow(event.position().toPoint())
        elif kind == QEvent.Type.Leave and not self.button.underMouse():
            self.hide()
        return False

    def _name_column(self) -> int:
        model = self.view.model()
        for column in range(model.columnCount()):
            if model.headerData(column, Qt.Orientation.Horizontal, ColumnKeyRole) == "name":
                return column
        return -1

    def follow(self, pos: QPoint) -> None:
        """Put the button at the right end of the NAME cell of the row under ``pos`` (viewport coordinates)."""
        index = self.view.indexAt(pos)
        column = self._name_column() if index.isValid() else -1
        experiment_id = index.data(IdRole) if column >= 0 else None
        cell = self.view.visualRect(index.siblingAtColumn(column)) if experiment_id else None
        if cell is None or cell.width() < 3 * cell.height():  # no room beside the name
            self.hide()
            return
        self.experiment_id = experiment_id
        side = cell.height() - 2 * MARGIN
        self.button.setGeometry(cell.right() - side - MARGIN, cell.top() + MARGIN, side, side)
        self.button.show()
        self.button.raise_()

    def hide(self) -> None:
        self.button.hide()
        self.experiment_id = None

    def open_menu(self) -> None:
        if self.experiment_id is None:
            return
        # As a right-click does: the row becomes the current one unless it is part of the selection.
        index = self.view.indexAt(self.button.geometry().center())
        selection = self.view.selectionModel()
        if index.isValid() and not selection.isRowSelected(index.row(), QModelIndex()):
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                      | QItemSelectionModel.SelectionFlag.Rows)
        self.controller.show_context_menu(self.button.mapToGlobal(QPoint(0, self.button.height())),
                                          self.experiment_id)
