"""Custom item-data roles of the experiments table model."""
from PySide6.QtCore import Qt

_BASE = Qt.ItemDataRole.UserRole
#: The experiment id of a row.
IdRole = _BASE + 1
#: The raw value of a cell (float with NaN for missing, str, tuple of tag ids).
ValueRole = _BASE + 2
#: TAGS: list of (name, background, foreground).
TagsRole = _BASE + 3
#: STATUS: (status, progress or None).
StatusRole = _BASE + 4
#: TYPE: the task type code.
TypeRole = _BASE + 5
#: The column key of a header section (headerData).
ColumnKeyRole = _BASE + 6
#: Details card list: the row's card (ExperimentTable.row_info: name, status, tags, user, times).
CardInfoRole = _BASE + 7
