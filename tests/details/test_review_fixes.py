"""What a review of the window found: status colours, the card's meta line, the header at laptop size."""
from __future__ import annotations

import re
import time

from PySide6.QtGui import QFont, QFontMetrics

from exptable_desktop.core import recording
from exptable_desktop.core import states as st
from exptable_desktop.paths import resource_path
from exptable_desktop.ui import icons
from exptable_desktop.ui.details.cards import card_meta, meta_line, short_ago
from exptable_desktop.ui.details.common import STATUS_COLOURS
from exptable_desktop.ui.details.panel import DetailsPanel


def test_status_colours_are_the_tables():
    for status in (st.DRAFT, st.PENDING, st.RUNNING, st.COMPLETED, st.CLOSED, st.ABORTED, st.FAILED,
                   st.PUBLISHING, st.PUBLISHED):
        svg = resource_path("icons", f"{icons.status_icon_name(status)}.svg").read_text()
        # The icon's first colour: the disc's fill, or the ring's stroke (Draft, Pending).
        colour = re.search(r'(?:fill|stroke)="(#[0-9a-fA-F]{6})"', svg).group(1)
        assert STATUS_COLOURS[status].lower() == colour.lower(), status


def test_short_ago():
    assert short_ago("a few seconds ago") == "just now"
    assert short_ago("5 hours ago") == "5h ago"
    assert short_ago("an hour ago") == "1h ago"
    assert short_ago("12 days ago") == "12d ago"
    assert short_ago("3 months ago") == "3mo ago"


def test_meta_line_keeps_the_user_and_shortens_the_time(qapp):
    metrics = QFontMetrics(QFont())
    full = "Updated 20 hours ago · alice"
    assert meta_line("20 hours ago", "alice", metrics, metrics.horizontalAdvance(full)) == full
    # With the word decided on for the list, a tighter card shortens the time, not the word.
    narrower = meta_line("20 hours ago", "alice", metrics, metrics.horizontalAdvance(full) - 10)
    assert narrower == "Updated 20h ago · alice"
    assert meta_line("20 hours ago", "alice", metrics, metrics.horizontalAdvance(full) - 10, False) == "20 hours ago · alice"
    short = meta_line("20 hours ago", "alice", metrics, metrics.horizontalAdvance("20h ago · alice") + 2, False)
    assert short == "20h ago · alice"
    tight = meta_line("20 hours ago", "alice", metrics, metrics.horizontalAdvance("20… · alice") + 1, False)
    assert tight.endswith(" · alice") and "…" in tight
    assert meta_line("", "alice", metrics, 200) == "alice"


def test_every_card_of_a_list_says_updated_or_none_does(qapp):
    """The first card ("a few seconds ago · alice", 108,900 iterations) used to drop "Updated"
    while its neighbours kept it: the word was decided per card from that card's own line."""
    now = time.time()
    cards = [{"last_update": now - 2, "user": "alice", "last_iteration": 108_900},
             {"last_update": now - 2, "user": "bob", "last_iteration": 19_510},
             {"last_update": now - 5, "user": "eve", "last_iteration": 55},
             {"last_update": now - 90, "user": "carol", "last_iteration": 348_500},
             {"last_update": now - 7200, "user": "dmitri", "last_iteration": None},
             {"last_update": now - 7200, "user": "carol", "last_iteration": 40}]
    small = QFont()
    small.setPointSizeF(small.pointSizeF() * 0.85)
    metrics = QFontMetrics(small)
    saw_word = saw_none = False
    for text_width in range(120, 601, 2):
        worded = {card_meta(card, metrics, text_width)[0].startswith("Updated ") for card in cards}
        assert len(worded) == 1, f"at {text_width} px some cards say 'Updated' and some do not"
        saw_word |= worded == {True}
        saw_none |= worded == {False}
    assert saw_word and saw_none  # a wide list says it, a narrow one does not
    assert card_meta(cards[0], metrics, 600) == ("Updated a few seconds ago · alice", "108,900 iterations")


def test_a_long_name_elides_beside_the_id_chip(db, qtbot):
    exp_id = recording.create_experiment("p", "a very long experiment name " * 6)
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.resize(520, 600)
    panel.show()
    panel.show_experiment(exp_id)
    header = panel.header
    qtbot.waitUntil(lambda: header.name_edit.width() > 0)
    name, chip = header.name_edit, header.id_label
    assert name.geometry().right() < chip.geometry().left()  # side by side, no overlap
    assert header.minimumSizeHint().width() <= 520
    shown = name.displayed_text()
    assert shown.endswith("…") and len(shown) < len(name.text())
    assert name.fontMetrics().horizontalAdvance(shown) <= name.width()
    assert name.text() == "a very long experiment name " * 6  # the edit keeps the whole name


def test_configuration_tree_shows_its_group_titles_whole(qapp):
    from exptable_desktop.ui.details.configuration_tab import GROUP_OBJECTS, ConfigurationTab
    tab = ConfigurationTab()
    bold = QFont(tab.nav.font())
    bold.setBold(True)
    needed = QFontMetrics(bold).horizontalAdvance(GROUP_OBJECTS) + tab.nav.indentation()
    assert tab.nav.minimumWidth() >= needed


def test_artifact_sections_take_their_own_height(sdk_experiment, qtbot):
    from exptable_desktop.ui.details.artifacts_tab import ArtifactsTab
    tab = ArtifactsTab()
    qtbot.addWidget(tab)
    tab.resize(900, 900)
    tab.show()
    tab.load(sdk_experiment)
    assert tab.select("metrics_summary")
    table = tab.metadata_table
    rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
    assert table.rowCount() >= 1 and table.height() <= table.horizontalHeader().height() + rows + 12
    lines = tab.preview.toPlainText().count("\n") + 1
    assert tab.preview.height() <= (lines + 2) * tab.preview.fontMetrics().lineSpacing() + 20
    # The space left over is below the preview, not inside the sections.
    assert tab.preview.geometry().bottom() < tab.preview.parentWidget().height() - 100
