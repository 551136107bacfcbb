"""Every text column keeps NUL, over-long names and lone surrogates alike on both databases.

PostgreSQL refuses a NUL and a VARCHAR value longer than its column, while SQLite stores
both: the same script's ``add_tags``, ``connect`` or ``set_comment`` failed on one database
and worked on the other.
"""
from __future__ import annotations

import pytest

from exptable_desktop.core import actions, editing, recording
from exptable_desktop.store.schema import ConfigObject, Experiment, HyperParam, Project, Tag

LONG = "t" * 300


@pytest.mark.both_backends
def test_names_and_texts_with_nul_and_too_long_read_back_the_same_on_both_databases(db):
    exp = recording.create_experiment("team\0a/x" + "p" * 300, "run\0one", description="about\0it")
    assert Experiment.get_by_id(exp).name == "runone"
    assert Experiment.get_by_id(exp).description == "about\ufffdit"
    assert [p.name for p in Project.select().order_by(Project.id)] == ["teama", "x" + "p" * 254]

    assert editing.require(editing.set_hyperparams([exp], "Args\0", {"lr\0" + LONG: "0.1\0x", "bad\ud800": 1}))
    params = {(p.section, p.name): p.value for p in HyperParam.select()}
    assert params == {("Args", "lr" + LONG[:253]): "0.1\ufffdx", ("Args", "bad\ufffd"): "1"}

    assert actions.add_tags([exp], ["best\0", LONG]).succeeded == [exp]
    assert sorted(t.name for t in Tag.select()) == ["best", LONG[:255]]
    assert actions.add_tags([exp], [LONG + "more"]).succeeded == [exp]  # the same tag once cut
    assert Tag.select().count() == 2

    assert editing.require(editing.set_configuration([exp], "cfg\0", "a: 1\0"))
    assert [(c.name, c.value) for c in ConfigObject.select()] == [("cfg", "a: 1\ufffd")]
    assert actions.set_description([exp], "new\0text").succeeded == [exp]
    assert actions.rename([exp], "renamed\0" + "n" * 2000).succeeded == [exp]
    row = Experiment.get_by_id(exp)
    assert (row.description, row.name) == ("new\ufffdtext", "renamed" + "n" * 1017)
