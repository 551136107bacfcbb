"""The search box as a query box: it turns its text into the table's search, shows where a query
is wrong (a red wavy underline and a message under the box) and completes field names and values.

Plain words search name, id and description as one phrase, as the box always did; the regex
toggle makes the whole text one regular expression, as before; anything with query syntax
(core.query) is a query. A query that cannot be read never raises: the table keeps what it
showed, and the box says what is wrong and where.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, QStringListModel, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QCompleter, QLabel, QLineEdit, QWidget

from exptable_desktop.core import query as q
from exptable_desktop.core.filters import SearchQuery
from exptable_desktop.core.database import Scope, first_line
from exptable_desktop.ui.palette import themed

ERROR_COLOUR = QColor(themed("$danger"))
# A field the catalogue does not know may have just appeared (a new run): ask the database
# again, at most this often.
CATALOGUE_RETRY_SECONDS = 2.0
MAX_SUGGESTIONS = 200
PLACEHOLDER = "Search name, id, description — or a query: status:running tag:best lr>0.01"


class _Underline(QWidget):
    """A red wavy line under the characters [start, end) of the line edit it covers."""

    def __init__(self, box: QLineEdit):
        super().__init__(box)
        self.box = box
        self.span: tuple[int, int] | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setObjectName("queryErrorUnderline")

    def x_of(self, index: int) -> float:
        """Where character ``index`` starts, in the box's coordinates: measured from the text
        cursor, whose place Qt knows whatever the text's scroll offset."""
        text = self.box.text()
        metrics = self.box.fontMetrics()
        cursor = self.box.cursorPosition()
        cursor_x = self.box.cursorRect().center().x()
        return cursor_x + metrics.horizontalAdvance(text[:index]) - metrics.horizontalAdvance(text[:cursor])

    def span_rect(self) -> QRect | None:
        if self.span is None:
            return None
        start, end = self.span
        left, right = self.x_of(start), self.x_of(max(end, start + 1))
        if end > len(self.box.text()):  # "expected a value" past the end: a short mark after the text
            right = left + self.box.fontMetrics().horizontalAdvance("m")
        bottom = self.box.cursorRect().bottom()
        return QRect(int(left), int(bottom - 2), max(4, int(right - left)), 4)

    def paintEvent(self, _event) -> None:  # noqa: N802
        rect = self.span_rect()
        if rect is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(ERROR_COLOUR, 1.2))
        path = QPainterPath(QPointF(rect.left(), rect.bottom() - 1))
        x, up = float(rect.left()), True
        while x < rect.right():
            x += 2.0
            path.lineTo(QPointF(x, rect.top() if up else rect.bottom() - 1))
            up = not up
        painter.drawPath(path)
        painter.end()


class QueryBox(QObject):
    """The query side of ``window.search_box`` (see the module docstring)."""

    def __init__(self, window, box: QLineEdit, regex_action):
        super().__init__(window)
        self.window = window
        self.box = box
        self.regex_action = regex_action
        self.error: q.QueryError | None = None
        self._catalogues: dict[Scope, tuple[float, q.Catalogue]] = {}
        self._stale = False
        window.sig_refreshed.connect(self._mark_stale)
        box.setPlaceholderText(PLACEHOLDER)
        box.setToolTip(self._help_text())
        self.underline = _Underline(box)
        self.underline.hide()
        self.message = QLabel(window)
        self.message.setObjectName("queryErrorMessage")
        self.message.setStyleSheet(themed("QLabel#queryErrorMessage { background: $danger_soft; color: $danger; "
                                   "border: 1px solid $danger; border-radius: 3px; padding: 2px 6px; }"))
        self.message.hide()
        box.installEventFilter(self)

        self.completions = QStringListModel(self)
        self.completer = QCompleter(self.completions, self)
        self.completer.setWidget(box)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setMaxVisibleItems(12)
        self.completer.activated.connect(self._insert_completion)
        self._context: q.CompletionContext | None = None
        box.textEdited.connect(lambda _text: QTimer.singleShot(0, self.update_completions))

    # ---- Search --------------------------------------------------------------------------

    def catalogue(self, scope: Scope, *, fresh: bool = False) -> q.Catalogue:
        """The metrics and hyperparameters of ``scope``, cached; ``fresh`` reads them again if a
        refresh came in since (new runs may bring new names), or a while has passed."""
        cached = self._catalogues.get(scope)
        if cached is None or (fresh and (self._stale or time.monotonic() - cached[0] > CATALOGUE_RETRY_SECONDS)):
            cached = (time.monotonic(), q.catalogue_for(scope))
            self._catalogues = {scope: cached}  # one scope at a time: a new one replaces it
            self._stale = False
        return cached[1]

    def _mark_stale(self) -> None:
        self._stale = True

    def search_for(self, table, scope: Scope):
        """The table's search for the box's text (None when empty or wrong; ``error`` says why),
        with the custom columns the query names read into ``table`` first."""
        self.error = None
        text = self.box.text()
        if not text:
            return None
        if self.regex_action.isChecked():
            try:
                return SearchQuery(text, True)
            except ValueError as exc:
                self.error = q.QueryError(str(exc), 0, len(text))
                return None
        try:
            parsed = q.parse(text)
            if parsed.is_plain_text:
                return SearchQuery(text)
            try:
                compiled = q.compile_query(parsed, self.catalogue(scope))
            except q.QueryError:
                compiled = q.compile_query(parsed, self.catalogue(scope, fresh=True))
            q.load_columns(table, scope, compiled.columns)
        except q.QueryError as exc:
            self.error = exc
            return None
        except Exception as exc:  # noqa: BLE001 (a database error, or a bug: the box says so, the window goes on)
            self.error = q.QueryError(f"the query could not run: {first_line(exc)}", 0, len(text))
            return None
        return q.QuerySearch(compiled)

    def show_error(self) -> None:
        """Underline and explain ``error`` (or hide both)."""
        error = self.error
        if error is None:
            self.underline.span = None
            self.underline.hide()
            self.message.hide()
            self.box.setToolTip(self._help_text())
            return
        self.underline.span = (error.position, error.end)
        self.underline.setGeometry(self.box.rect())
        self.underline.show()
        self.underline.raise_()
        self.underline.update()
        self.message.setText(f"Character {error.position + 1}: {error.message}")
        self.message.adjustSize()
        self._place_message()
        self.message.show()
        self.message.raise_()
        self.box.setToolTip(str(error))

    def _place_message(self) -> None:
        left = max(0, int(self.underline.x_of(min(self.error.position, len(self.box.text())))) - 8) \
            if self.error else 0
        below = self.box.mapTo(self.window, QPoint(left, self.box.height() + 2))
        limit = self.window.width() - self.message.width() - 4
        self.message.move(max(0, min(below.x(), limit)), below.y())

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.box and event.type() in (QEvent.Type.Resize, QEvent.Type.Move, QEvent.Type.Show):
            self.underline.setGeometry(self.box.rect())
            if self.message.isVisible():
                self._place_message()
        return False

    @staticmethod
    def _help_text() -> str:
        return ("Plain words search name, id and description. Queries: status:running tag:best -tag:debug "
                "user:alice|bob lr>0.01 metric:accuracy/val.max>=0.9 started>2026-11-01 name~/resnet(18|50)/ "
                "(A OR B) \"quoted text\". The .* toggle makes the text one regular expression.")

    # ---- Completion ------------------------------------------------------------------------

    def suggestions(self, context: q.CompletionContext) -> list[str]:
        table = self.window.model.table
        catalogue = self.catalogue(self.window._scope)
        if context.field is None:
            if not context.prefix:
                return []
            return q.field_suggestions(catalogue)
        values = q.value_suggestions(context.field, table, catalogue, self.window._scope)
        return [q.quote_if_needed(v) for v in values[:MAX_SUGGESTIONS]]

    def update_completions(self) -> None:
        if self.regex_action.isChecked() or not self.box.isVisible():
            return
        context = q.completion_context(self.box.text(), self.box.cursorPosition())
        options = self.suggestions(context)
        self._context = context
        prefix = context.prefix.lstrip('"')
        options = [o for o in options if o.lstrip('"').lower().startswith(prefix.lower()) and o != context.prefix]
        if not options:
            self.completer.popup().hide()
            return
        self.completions.setStringList(options)
        self.completer.setCompletionPrefix("")
        rect = self.box.cursorRect()
        rect.setWidth(max(220, self.completer.popup().sizeHintForColumn(0) + 24))
        self.completer.complete(rect)

    def _insert_completion(self, completion: str) -> None:
        context = self._context
        if context is None:
            return
        text, cursor = self.box.text(), self.box.cursorPosition()
        new_text = text[:context.start] + completion + text[cursor:]
        self.box.setText(new_text)  # textChanged: the table follows
        self.box.setCursorPosition(context.start + len(completion))
        if completion.endswith(":"):  # a field: offer its values next
            QTimer.singleShot(0, self.update_completions)
