"""Scripts written for the reference SDK, import line changed: task basics, media, images, plotly and 3-D plots.

Each script runs in a subprocess and is read back through ``Task.get_task``.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from exptable_desktop.core import details
from exptable_desktop.store.schema import DebugSample, Plot
from sdk_scripts import run

PIL = pytest.importorskip("PIL.Image", reason="pillow makes the JPEG the script reports")


def _script(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "work" / "train.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


BASICS = """
    import io
    import sys
    from exptable_desktop import Logger, Task, TaskTypes

    assert Task.TaskTypes is TaskTypes
    task = Task.init(project_name="dropin", task_name="basics", task_type=TaskTypes.testing)
    assert Task.current_task() is task and task.logger is task.get_logger() is Logger.current_logger()
    assert task.running_locally() and task.task_id == task.id
    print("LINK", task.get_output_log_web_page())
    for i in range(3):
        task.logger.report_scalar("loss", "train", 1.0 / (i + 1), iteration=i)
    print("LAST", task.get_last_iteration(), task.get_project_name())
    """


def test_task_basics_of_the_reference(tmp_path, script_env):
    from exptable_desktop import Task

    done = run(_script(tmp_path, BASICS), script_env)
    assert done.returncode == 0, done.stderr
    task = Task.get_task(project_name="dropin", task_name="basics")
    assert f"LINK exptable://experiment/{task.id}" in done.stdout
    assert "LAST 2 dropin" in done.stdout  # the iteration still in memory counts
    assert task.get_last_iteration() == 2
    assert Experiment_type(task.id) == "testing"


def Experiment_type(exp_id: str) -> str:
    from exptable_desktop.store.schema import Experiment

    return Experiment.get_by_id(exp_id).type


MEDIA = """
    import io
    from PIL import Image
    from exptable_desktop import Task

    task = Task.init(project_name="dropin", task_name="media")
    logger = task.get_logger()
    logger.report_media("audio", "tone", iteration=1, stream=io.BytesIO(b"RIFF----WAVEfmt "), file_extension="wav")
    logger.report_media("page", "report", iteration=2, stream=io.StringIO("<h1>hello</h1>"), file_extension=".html")
    logger.report_media("video", "clip", iteration=3, local_path="clip.mp4")
    logger.report_image("photo", "file", iteration=4, local_path="photo.jpg")
    logger.report_image("photo", "pil", iteration=5, image=Image.open("photo.jpg"))
    logger.report_image("photo", "array", iteration=6, image=Image.open("photo.jpg").convert("L"))
    logger.report_image("photo", "remote", iteration=7, url="https://example.com/x.png")
    logger.report_image("photo", "capped", iteration=8, local_path="photo.jpg", max_image_history=2)
    logger.report_image("photo", "capped", iteration=9, local_path="photo.jpg", max_image_history=2)
    """


def test_media_streams_and_files_keep_their_bytes(tmp_path, script_env):
    from PIL import Image

    script = _script(tmp_path, MEDIA)
    noise = (np.random.default_rng(0).random((240, 320, 3)) * 255).astype(np.uint8)
    Image.fromarray(noise).save(script.parent / "photo.jpg", quality=70)
    (script.parent / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("max_image_history/max_history is not applied") == 1  # said once, not ignored
    samples = {(s.metric, s.variant, s.iteration): s for s in DebugSample.select()}
    audio = samples[("audio", "tone", 1)]
    assert Path(audio.path).read_bytes() == b"RIFF----WAVEfmt " and audio.content_type in ("audio/x-wav", "audio/wav")
    page = samples[("page", "report", 2)]
    assert Path(page.path).suffix == ".html" and Path(page.path).read_text() == "<h1>hello</h1>"
    assert Path(samples[("video", "clip", 3)].path).read_bytes().endswith(b"mp42")
    original = (script.parent / "photo.jpg").read_bytes()
    assert Path(samples[("photo", "file", 4)].path).read_bytes() == original
    pil = samples[("photo", "pil", 5)]
    assert pil.content_type == "image/jpeg" and Path(pil.path).suffix == ".jpg"
    # A JPEG given as a PIL image stays a JPEG of about its size (not a PNG several times bigger).
    assert Path(pil.path).stat().st_size < 1.5 * len(original)
    assert samples[("photo", "array", 6)].content_type == "image/png"
    assert samples[("photo", "remote", 7)].path == "https://example.com/x.png"


PLOTS = """
    import numpy as np
    from exptable_desktop import Task

    task = Task.init(project_name="dropin", task_name="plots")
    logger = task.get_logger()
    figure = {
        "data": [
            {"type": "scatter", "mode": "lines", "name": "loss", "x": np.arange(4), "y": np.array([4.0, 3, 2, np.nan])},
            {"type": "bar", "name": "counts", "x": [0, 1, 2, 3], "y": [1, 2, 3, 4]},
        ],
        "layout": {"title": {"text": "mixed"}, "xaxis": {"title": "step"}},
    }
    logger.report_plotly("plotly", "mixed", figure, iteration=1)
    logger.report_plotly("plotly", "hist", {"data": [{"type": "histogram", "x": [1, 1, 2, 3, 3, 3], "nbinsx": 3}]})
    logger.report_plotly("plotly", "pie", {"data": [{"type": "pie", "labels": ["a", "b"], "values": [3, 7]}]})
    logger.report_surface("surface", "z", np.arange(12).reshape(3, 4), iteration=2, xaxis="x", zaxis="height")
    logger.report_scatter3d("cloud", "points", [[0, 0, 1], [1, 2, 3], [2, 1, 5]], iteration=3, zaxis="depth")
    logger.report_table("table", "from csv", iteration=4, url="scores.csv")
    """


def test_plotly_surface_scatter3d_and_csv_tables(tmp_path, script_env):
    from exptable_desktop import Task

    script = _script(tmp_path, PLOTS)
    (script.parent / "scores.csv").write_text("name,score\na,1.5\nb,2.5\n")
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    task = Task.get_task(project_name="dropin", task_name="plots")
    plots = {(p.metric, p.variant): p for p in Plot.select().where(Plot.experiment == task.id)}
    stored = json.loads(plots[("plotly", "mixed")].data)
    assert stored["data"][0]["y"] == [4.0, 3.0, 2.0, None]  # strict JSON: NaN as null
    mixed = details.normalize_plot(plots[("plotly", "mixed")].kind, plots[("plotly", "mixed")].data)
    assert mixed["kind"] == "mixed" and [s["style"] for s in mixed["series"]] == ["lines", "bar"]
    assert mixed["title"] == "mixed" and mixed["xaxis"] == "step"
    hist = details.normalize_plot("plotly", plots[("plotly", "hist")].data)
    assert hist["kind"] == "histogram" and hist["counts"] == [2.0, 1.0, 3.0]
    pie = details.normalize_plot("plotly", plots[("plotly", "pie")].data)
    assert pie["kind"] == "table" and pie["columns"] == ["trace", "type", "labels", "values"]
    assert pie["rows"] == [["trace 0", "pie", "a", 3], ["trace 0", "pie", "b", 7]]
    surface = details.normalize_plot(plots[("surface", "z")].kind, plots[("surface", "z")].data)
    assert surface["kind"] == "heatmap" and surface["z"][2] == [8.0, 9.0, 10.0, 11.0]
    assert json.loads(plots[("surface", "z")].data)["layout"]["scene"]["zaxis"]["title"]["text"] == "height"
    cloud = details.normalize_plot(plots[("cloud", "points")].kind, plots[("cloud", "points")].data)
    assert cloud["kind"] == "scatter" and cloud["projection"] == "x-y" and cloud["zaxis"] == "depth"
    assert cloud["series"][0]["z"] == [1.0, 3.0, 5.0]
    table = details.normalize_plot("table", plots[("table", "from csv")].data)
    assert table["columns"] == ["", "name", "score"] and table["rows"][1] == [1, "b", 2.5]


def test_a_plotly_figure_object_is_stored_as_its_json(db):
    """A plotly ``Figure`` (anything with ``to_plotly_json``), without plotly being installed here."""
    from exptable_desktop.sdk.logger import plotly_json

    class Figure:
        def to_plotly_json(self):
            return {"data": [{"type": "scatter", "x": np.array([1, 2]), "y": (np.float32(3), 4)}], "layout": {}}

    assert plotly_json(Figure()) == {"data": [{"type": "scatter", "x": [1, 2], "y": [3.0, 4]}], "layout": {}}
    with pytest.raises(TypeError, match="report_plotly takes a dict or a plotly Figure, not list"):
        plotly_json([1, 2])


def test_plotly_typed_arrays_are_decoded():
    """Plotly 6 writes numpy data as {"dtype", "bdata", "shape"}."""
    import base64

    from exptable_desktop.core.plotly_figures import normalize_plotly

    z = np.arange(6, dtype="f8").reshape(2, 3)
    figure = {"data": [{"type": "heatmap", "z": {"dtype": "f8", "bdata": base64.b64encode(z.tobytes()).decode(),
                                                  "shape": "2, 3"}}]}
    assert normalize_plotly(figure)["z"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_a_testing_script_reports_into_the_training_run(tmp_path, script_env):
    """The reference's get_task example: the Logger of a task read back reports into that experiment."""
    from exptable_desktop import Task
    from exptable_desktop.store.series import read_series

    training = _script(tmp_path, """
        from exptable_desktop import Task
        Task.init(project_name="dropin", task_name="training").get_logger().report_scalar("loss", "train", 1.0, 0)
        """)
    assert run(training, script_env).returncode == 0
    testing = training.with_name("testing.py")
    testing.write_text(textwrap.dedent("""
        from exptable_desktop import Task
        Task.init(project_name="dropin", task_name="testing")
        train_task = Task.get_task(project_name="dropin", task_name="training")
        for x in range(10):
            train_task.get_logger().report_scalar("title", "series", value=x * 2, iteration=x)
        """))
    done = run(testing, script_env)
    assert done.returncode == 0, done.stderr
    train_id = Task.get_task(project_name="dropin", task_name="training").id
    assert read_series(train_id, "title", "series").values.tolist() == [x * 2.0 for x in range(10)]
    assert Task.get_task(project_name="dropin", task_name="training").status == "completed"
