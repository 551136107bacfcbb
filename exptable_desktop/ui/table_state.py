"""The experiments table's layout and what narrows it: the header's state (order, widths, hidden
columns) kept per project view and user, sort, filters and search, the filter pop-ups, the
Columns menu and the custom metric and hyperparameter columns."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QDialog, QMenu

from exptable_desktop.core import columns as C
from exptable_desktop.core import database
from exptable_desktop.core.filters import RangeFilter, TagFilter, ValueSetFilter
from exptable_desktop.core.stars import STAR_KEY as STAR
from exptable_desktop.core.experiment_table import prepare_custom_column
from exptable_desktop.core.table_loading import covers_most_of_db, load_custom_columns
from exptable_desktop.core.viewstate import TableState, default_state
from exptable_desktop.ui.column_dialogs import HyperparamsDialog, MetricsDialog
from exptable_desktop.ui.filter_popups import (
    DateRangePopup,
    DurationRangePopup,
    FilterPopup,
    NumberRangePopup,
    TagPopup,
    ValueSetPopup,
)
from exptable_desktop.ui.style import style_sheet


class TableStateControl:
    """The table's layout, sort, filters, search and custom columns (a mixin of ``MainWindow``).

    Every change a person makes schedules a save of ``table_state()`` under the scope's key
    (``_save_timer``); ``_restoring`` is set while a saved state is applied, so applying it saves
    nothing. Uses the window's ``model``, ``table_view``, ``search_box``, ``query_box``, ``_scope``
    and ``_scope_key``.
    """

    # ---- Table state: header, sort, filters, persistence ---------------------------------------------

    def _apply_header_state(self, state: TableState) -> None:
        header = self.table_view.horizontalHeader()
        for visual, key in enumerate(state.order):
            logical = self.model.column_of(key)
            if logical < 0:
                continue
            current = header.visualIndex(logical)
            if current != visual:
                header.moveSection(current, visual)
        for logical, spec in enumerate(self.model.specs):
            header.resizeSection(logical, state.widths.get(spec.key) or self.default_width(logical))
            header.setSectionHidden(logical, spec.hideable and spec.key in state.hidden)
        check = self.model.column_of("check")
        header.setSectionResizeMode(check, header.ResizeMode.Fixed)
        header.resizeSection(check, C.BUILTIN_BY_KEY["check"].default_width)
        if header.visualIndex(check) != 0:
            header.moveSection(header.visualIndex(check), 0)
        header.viewport().update()
        self._auto_fit = not state.widths
        if self._auto_fit:
            self.fit_default_widths()

    def _on_section_resized(self, *_args) -> None:
        if not self._fitting and not self._restoring:
            self._auto_fit = False  # the person sized a column: keep their widths from now on
        self._schedule_save()

    def fit_default_widths(self) -> None:
        """Widths nobody chose: every column fitted to its contents, NAME to the room left
        (ExperimentTableView.fit_columns); they follow the table's width until a column is dragged."""
        self._fitting = True
        try:
            self.table_view.fit_columns()
        finally:
            self._fitting = False

    def fit_columns(self) -> None:
        """The "Fit columns" action: every visible column to its contents at once, kept as the layout."""
        self.fit_default_widths()
        self._schedule_save()

    def table_state(self) -> TableState:
        header = self.table_view.horizontalHeader()
        specs = self.model.specs
        order = [specs[header.logicalIndex(v)].key for v in range(header.count())]
        return TableState(
            order=order,
            widths={s.key: header.sectionSize(i) for i, s in enumerate(specs) if not header.isSectionHidden(i)},
            hidden=[s.key for i, s in enumerate(specs) if header.isSectionHidden(i)],
            custom=[s.key for s in specs if s.is_custom],
            sort=[s for s in self.model.table.sort if s[0] != STAR],
            filters={k: f for k, f in self.model.table.filters.items() if k != STAR},
            precise=sorted(self.model.precise),
            starred_first=self.model.table.sort[:1] == [(STAR, False)],
            starred_only=STAR in self.model.table.filters,
        )

    def _schedule_save(self) -> None:
        if not self._restoring:
            self._save_timer.start()

    def _save_table_state(self) -> None:
        self._save_timer.stop()
        database.store_saved_view(self.user, self._scope_key, self.table_state().to_dict())

    def _on_sort_clicked(self, logical: int, add: bool) -> None:
        key = self.model.specs[logical].key
        sort = [s for s in self.model.table.sort if s[0] != STAR]  # "Starred first" stays first (set_sort)
        existing = next((i for i, (k, _) in enumerate(sort) if k == key), None)
        if add:
            if existing is None:
                sort.append((key, True))
            else:
                sort[existing] = (key, not sort[existing][1])
        elif existing == 0:
            sort = [(key, not sort[0][1])]
        else:
            sort = [(key, True)]  # the first click sorts descending, as the reference does
        self.set_sort(sort)

    def set_sort(self, sort: list[tuple[str, bool]], *, starred_first: bool | None = None) -> None:
        """Sort by ``sort``; starred rows stay first while "Starred first" is on (or as ``starred_first`` says)."""
        if starred_first is None:
            starred_first = self.model.table.sort[:1] == [(STAR, False)]
        self.model.set_sort(sort)
        if starred_first:  # the star column does not sort from its header: set past set_sort's check
            self.model.table.sort = [(STAR, False)] + [s for s in self.model.table.sort if s[0] != STAR]
            self.model.table.resort()
            self.model.sync_order()
        self.table_view.horizontalHeader().viewport().update()
        self._schedule_save()

    def set_filter(self, key: str, flt) -> None:
        self.model.set_filter(key, flt)
        self._update_filter_marks()
        self._schedule_save()

    def clear_filters(self) -> None:
        self.model.clear_filters()
        self._update_filter_marks()
        self._schedule_save()

    def _update_filter_marks(self) -> None:
        active = set(self.model.table.active_filter_keys())
        header = self.table_view.horizontalHeader()
        header.active_filters = active
        header.viewport().update()
        self.clear_filters_button.setVisible(bool(active))

    def _search_query(self, table=None):
        """The search box's text as the search of ``table`` (default: the one on screen): plain text, a
        regex or a query (ui.query_box); None when empty or wrong (``query_box.error`` says why)."""
        return self.query_box.search_for(self.model.table if table is None else table, self._scope)

    def _apply_search(self) -> None:
        text = self.search_box.text()
        query = self._search_query()
        invalid = bool(text) and query is None
        self.search_box.setProperty("invalid", invalid)
        self.search_box.style().unpolish(self.search_box)
        self.search_box.style().polish(self.search_box)
        self.query_box.show_error()
        if not invalid:
            if query is not None and self.model.is_show_only_checked():
                self.set_show_only_checked(False)  # searching cancels it (feature inventory 5.4)
            self.model.set_search(query)

    # ---- Filter pop-ups --------------------------------------------------------------------------------

    def _on_filter_clicked(self, logical: int, rect: QRect) -> None:
        self.open_filter_popup(self.model.specs[logical].key, rect.topLeft())

    def open_filter_popup(self, key: str, pos: QPoint | None = None) -> FilterPopup:
        spec = C.spec_for(key)
        current = self.model.table.filters.get(key)
        table = self.model.table
        kind = spec.filter_kind
        title = spec.title
        if kind == C.FILTER_VALUES:
            popup = ValueSetPopup(key, title, table.distinct_values(key),
                                  current if isinstance(current, ValueSetFilter) else None, self)
        elif kind == C.FILTER_TAGS:
            popup = TagPopup(key, title, table.distinct_tags(), current if isinstance(current, TagFilter) else None,
                             self, system_tags=table.distinct_system_tags())
        elif kind == C.FILTER_DATES:
            popup = DateRangePopup(key, title, current if isinstance(current, RangeFilter) else None, self)
        elif kind == C.FILTER_DURATION:
            popup = DurationRangePopup(key, title, current if isinstance(current, RangeFilter) else None, self)
        elif kind == C.FILTER_RANGE:
            popup = NumberRangePopup(key, title, current if isinstance(current, RangeFilter) else None, self)
        else:
            raise ValueError(f"column {key!r} has no filter")
        popup.setStyleSheet(style_sheet())  # a window of its own: the main window's parts do not pass it on
        popup.sig_changed.connect(self.set_filter)
        if self._popup is not None:
            self._popup.close()
        self._popup = popup
        if pos is None:
            header = self.table_view.horizontalHeader()
            logical = self.model.column_of(key)
            pos = header.mapToGlobal(QPoint(header.sectionViewportPosition(logical), header.height()))
        popup.show_at(pos)
        return popup

    # ---- Columns ------------------------------------------------------------------------------------------

    def _fill_columns_menu(self) -> None:
        menu = self.columns_menu
        menu.clear()
        header = self.table_view.horizontalHeader()
        menu.addSection("Show columns")
        for visual in range(header.count()):
            logical = header.logicalIndex(visual)
            spec = self.model.specs[logical]
            if spec.kind == C.CHECK:
                continue
            action = menu.addAction(spec.title)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(logical))
            if not spec.hideable:
                action.setEnabled(False)  # shown, greyed: the column is always there
                continue
            action.toggled.connect(lambda on, k=spec.key: self.set_column_visible(k, on))
        menu.addSeparator()
        menu.addAction("+ Metrics…", self.open_metrics_dialog)
        menu.addAction("+ Hyperparameters…", self.open_hyperparams_dialog)
        custom = [s for s in self.model.specs if s.is_custom]
        if custom:
            remove = menu.addMenu("Remove custom column")
            for spec in custom:
                remove.addAction(spec.title, lambda k=spec.key: self.remove_custom_column(k))
        metrics = [s for s in custom if s.kind == C.METRIC]
        if metrics:
            precise = menu.addMenu("Show precise values")
            for spec in metrics:
                action = precise.addAction(spec.title)
                action.setCheckable(True)
                action.setChecked(spec.key in self.model.precise)
                action.toggled.connect(lambda on, k=spec.key: self.set_precise(k, on))
        menu.addSeparator()
        fit = menu.addAction("Fit columns", self.fit_columns)
        fit.setToolTip("Every column to its contents; NAME takes the room left")
        menu.addAction("Reset columns to defaults", self.reset_columns)

    def set_column_visible(self, key: str, visible: bool) -> None:
        logical = self.model.column_of(key)
        if logical >= 0:
            if not visible and not self.model.specs[logical].hideable:
                return
            header = self.table_view.horizontalHeader()
            header.setSectionHidden(logical, not visible)
            if visible and header.sectionSize(logical) < 24:
                header.resizeSection(logical, self.default_width(logical))
            self._schedule_save()

    def default_width(self, logical: int) -> int:
        """The column's default width, widened when its header (title, sort mark, funnel) needs more."""
        spec = self.model.specs[logical]
        if spec.kind == C.CHECK:
            return spec.default_width
        header = self.table_view.horizontalHeader()
        return max(spec.default_width, header.sectionSizeFromContents(logical).width())

    def add_custom_columns(self, keys: list[str]) -> None:
        header = self.table_view.horizontalHeader()
        keys = [key for key in dict.fromkeys(keys) if key not in self.model.keys]
        for key in keys:
            logical = self.model.add_column(key)
            header.resizeSection(logical, self.default_width(logical))
            header.setSectionHidden(logical, False)
        table = self.model.table
        for key, rows in load_custom_columns(self._scope, keys, whole_db=covers_most_of_db(table),
                                             expected_rows=table.n):
            self.model.install_column_data(prepare_custom_column(table, key, rows))
        self._schedule_save()

    def remove_custom_column(self, key: str) -> None:
        self.model.remove_column(key)
        self._update_filter_marks()
        self._schedule_save()

    def set_precise(self, key: str, precise: bool) -> None:
        self.model.set_precise(key, precise)
        logical = self.model.column_of(key)
        header = self.table_view.horizontalHeader()
        if precise and logical >= 0 and header.sectionSize(logical) < 200:
            header.resizeSection(logical, 200)
        self._schedule_save()

    def reset_columns(self) -> None:
        for spec in [s for s in self.model.specs if s.is_custom]:
            self.model.remove_column(spec.key)
        state = default_state(self._project_id is None or self._deep)
        self._restoring = True
        self._apply_header_state(state)
        self._restoring = False
        self._schedule_save()

    def _apply_dialog_choice(self, kind: str, chosen: list[str]) -> None:
        current = [s.key for s in self.model.specs if s.kind == kind]
        for key in current:
            if key not in chosen:
                self.remove_custom_column(key)
        self.add_custom_columns([k for k in chosen if k not in current])

    def metrics_dialog(self) -> MetricsDialog:
        selected = {s.key for s in self.model.specs if s.kind == C.METRIC}
        dialog = MetricsDialog(database.metric_variants(self._scope), selected, self)
        dialog.setStyleSheet(style_sheet())
        return dialog

    def hyperparams_dialog(self) -> HyperparamsDialog:
        selected = {s.key for s in self.model.specs if s.kind == C.HYPERPARAM}
        dialog = HyperparamsDialog(database.hyperparam_names(self._scope), selected, self)
        dialog.setStyleSheet(style_sheet())
        return dialog

    def open_metrics_dialog(self) -> None:
        dialog = self.metrics_dialog()
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._apply_dialog_choice(C.METRIC, dialog.selected_keys())

    def open_hyperparams_dialog(self) -> None:
        dialog = self.hyperparams_dialog()
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._apply_dialog_choice(C.HYPERPARAM, dialog.selected_keys())

    def _header_menu(self, pos: QPoint) -> None:
        header = self.table_view.horizontalHeader()
        logical = header.logicalIndexAt(pos)
        if logical < 0:
            return
        spec = self.model.specs[logical]
        menu = QMenu(self)
        if spec.hideable:
            menu.addAction("Hide column", lambda: self.set_column_visible(spec.key, False))
        if spec.kind != C.CHECK:
            menu.addAction("Fit to contents", lambda: self.table_view.fit_column(logical))
        menu.addAction("Fit columns", self.fit_columns)
        if spec.filter_kind:
            menu.addAction("Filter…", lambda: self.open_filter_popup(spec.key))
            if spec.key in self.model.table.filters:
                menu.addAction("Clear filter", lambda: self.set_filter(spec.key, None))
        if spec.kind == C.METRIC:
            action = menu.addAction("Show precise values")
            action.setCheckable(True)
            action.setChecked(spec.key in self.model.precise)
            action.toggled.connect(lambda on: self.set_precise(spec.key, on))
        if spec.is_custom:
            menu.addAction("Remove column", lambda: self.remove_custom_column(spec.key))
        menu.exec(header.mapToGlobal(pos))
