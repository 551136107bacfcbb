"""The SDK's pieces on their own: casting, flattening, PNG encoding, batching, the background writer."""
from __future__ import annotations

import math
import struct
import threading
import zlib

import numpy as np
import pytest

from exptable_desktop.core import recording
from exptable_desktop.core import states as st
from exptable_desktop.sdk.params import apply_flat, cast, flatten, to_text
from exptable_desktop.sdk.png import encode_png
from exptable_desktop.sdk.reporter import FIELDS, Reporter, group_scalars
from exptable_desktop.store.schema import Experiment, MetricSummary
from exptable_desktop.store.series import read_series


@pytest.mark.parametrize("text,kind,expected", [
    ("3", "int", 3), ("3.0", "int", 3), ("0.25", "float", 0.25), ("true", "bool", True), ("False", "bool", False),
    ("[1, 2]", "list", [1, 2]), ("['a', 'b']", "list", ["a", "b"]), ('{"a": 1}', "dict", {"a": 1}),
    ("(1, 2)", "tuple", (1, 2)), ("None", "NoneType", None), ("x", "str", "x"), ("7", "", "7"),
])
def test_cast_to_the_recorded_type(text, kind, expected):
    assert cast(text, kind) == expected
    assert type(cast(text, kind)) is type(expected)


def test_cast_falls_back_to_the_original_type_and_rejects_bad_text():
    assert cast("5", "", original=1) == 5
    with pytest.raises(ValueError, match="not a bool"):
        cast("maybe", "bool")
    with pytest.raises(ValueError):
        cast("1.5", "int")


def test_flatten_and_apply_back_in_place():
    nested = {"a": 1, "opt": {"name": "sgd", "sched": {"gamma": 0.1}}, "empty": {}}
    flat = flatten(nested)
    assert flat == {"a": 1, "opt/name": "sgd", "opt/sched/gamma": 0.1, "empty": {}}
    apply_flat(nested, {"opt/sched/gamma": 0.5, "a": 2})
    assert nested == {"a": 2, "opt": {"name": "sgd", "sched": {"gamma": 0.5}}, "empty": {}}
    assert to_text([1, 2]) == "[1, 2]" and to_text(0.5) == "0.5"


def _decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, _, color = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, color, zlib.decompress(idat)


@pytest.mark.parametrize("shape,color,channels", [((3, 5), 0, 1), ((3, 5, 3), 2, 3), ((3, 5, 4), 6, 4)])
def test_png_round_trip(shape, color, channels):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=shape, dtype=np.uint8)
    width, height, got_color, raw = _decode_png(encode_png(image))
    assert (width, height, got_color) == (5, 3, color)
    rows = np.frombuffer(raw, np.uint8).reshape(3, 1 + 5 * channels)
    assert (rows[:, 0] == 0).all()
    assert np.array_equal(rows[:, 1:], image.reshape(3, 5 * channels))


def test_png_scales_floats_and_rejects_bad_shapes():
    _, _, _, raw = _decode_png(encode_png(np.array([[0.0, 1.0, np.nan]])))
    assert list(raw[1:]) == [0, 255, 0]
    with pytest.raises(ValueError, match="HxW"):
        encode_png(np.zeros((2, 2, 7)))


def test_group_scalars_keeps_order_per_series():
    flat = []
    for i in range(10):
        flat.extend(("m", "a" if i % 3 else "b", i, float(i), 100.0 + i))
    grouped = group_scalars(flat)
    assert list(grouped) == [("m", "b"), ("m", "a")]
    iters, values, stamps = grouped[("m", "b")]
    assert iters.tolist() == [0, 3, 6, 9] and values.tolist() == [0, 3, 6, 9] and stamps[0] == 100.0
    assert grouped[("m", "a")][0].tolist() == [1, 2, 4, 5, 7, 8]
    assert group_scalars([]) == {}


@pytest.mark.both_backends
def test_writer_loses_nothing_while_threads_report_during_flushes(db):
    exp_id = recording.create_experiment("units", "threads", status=st.RUNNING)
    reporter = Reporter(exp_id, flush_period=0.05)
    reporter.start()
    per_thread = 40_000

    def produce(name: str) -> None:
        buffer_owner = reporter
        for i in range(per_thread):
            buffer_owner.scalars.extend(("t", name, i, float(i), 0.0))

    threads = [threading.Thread(target=produce, args=(f"s{k}",)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reporter.stop()
    for k in range(4):
        series = read_series(exp_id, "t", f"s{k}")
        assert np.array_equal(series.iterations, np.arange(per_thread))
    assert reporter.pending_points() == 0 and len(reporter.scalars) % FIELDS == 0


@pytest.mark.both_backends
def test_nan_and_inf_never_become_min_or_max(db):
    exp_id = recording.create_experiment("units", "nan", status=st.RUNNING)
    recording.record_batch(exp_id, scalars=[("m", "v", 0, math.nan, 1.0), ("m", "v", 1, math.inf, 1.0)])
    summary = MetricSummary.get(MetricSummary.experiment == exp_id)
    assert summary.min is None and summary.max is None and summary.count == 2 and summary.finite_count == 0
    recording.record_batch(exp_id, scalars=[("m", "v", 2, -math.inf, 1.0), ("m", "v", 3, 2.0, 1.0),
                                            ("m", "v", 4, math.nan, 1.0)])
    summary = MetricSummary.get(MetricSummary.experiment == exp_id)
    assert (summary.min, summary.max, summary.min_iteration, summary.max_iteration) == (2.0, 2.0, 3, 3)
    values = read_series(exp_id, "m", "v").values
    assert math.isnan(values[0]) and values[1] == math.inf and values[2] == -math.inf and math.isnan(values[4])


@pytest.mark.both_backends
def test_a_heartbeat_alone_does_not_move_last_update(db):
    exp_id = recording.create_experiment("units", "beat", status=st.RUNNING)
    before = Experiment.get_by_id(exp_id)
    result = recording.record_batch(exp_id)
    after = Experiment.get_by_id(exp_id)
    assert result["status"] == st.RUNNING
    assert after.last_update == before.last_update and after.heartbeat > before.heartbeat
    recording.record_batch(exp_id, single_values={"x": 1.0})
    assert Experiment.get_by_id(exp_id).last_update > before.last_update


@pytest.mark.both_backends
def test_writer_sees_the_abort_request(db):
    from exptable_desktop.core import actions

    exp_id = recording.create_experiment("units", "abort", status=st.RUNNING)
    seen = threading.Event()
    reporter = Reporter(exp_id, flush_period=0.05, on_abort=lambda message: seen.set())
    reporter.start()
    actions.abort([exp_id])
    assert seen.wait(3.0)
    assert reporter.abort_seen
    reporter.stop()


@pytest.mark.both_backends
def test_a_report_landing_in_the_list_just_swapped_out_is_written_next_flush(db):
    # A reporting thread may fetch ``scalars`` right before the writer swaps it and append after.
    exp_id = recording.create_experiment("units", "straggler", status=st.RUNNING)
    reporter = Reporter(exp_id)
    reporter.scalars.extend(("m", "v", 0, 0.0, 1.0))
    fetched_before_swap = reporter.scalars
    reporter.flush()
    fetched_before_swap.extend(("m", "v", 1, 1.0, 1.0))
    reporter.scalars.extend(("m", "v", 2, 2.0, 1.0))
    reporter.flush()
    assert read_series(exp_id, "m", "v").iterations.tolist() == [0, 1, 2]
    reporter.flush()
    assert read_series(exp_id, "m", "v").iterations.tolist() == [0, 1, 2]


def test_set_parameter_takes_the_section_from_the_first_part(db):
    """"General/opt/beta" is parameter "opt/beta" of section General, as connect() and set_parameters() file it."""
    from exptable_desktop.core import recording
    from exptable_desktop.core import states as st
    from exptable_desktop.sdk.task import Task
    from exptable_desktop.store.schema import HyperParam

    exp_id = recording.create_experiment("units", "params", status=st.RUNNING)
    task = Task.__new__(Task)
    task.id = exp_id
    task.set_parameter("General/opt/beta", 0.2)
    task.set_parameters({"General/opt/gamma": 0.3})
    rows = set(HyperParam.select(HyperParam.section, HyperParam.name).where(HyperParam.experiment == exp_id).tuples())
    assert rows == {("General", "opt/beta"), ("General", "opt/gamma")}
