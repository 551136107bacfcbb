"""Automatic capture from the libraries a script uses (``auto_connect_frameworks``), with the real libraries.

Each test runs a training script written as for the reference SDK in a
subprocess and reads the results back through ``Task.get_task`` and the
functions the details views use. A library too heavy for the test extra
(torch, scikit-learn, keras) skips its test with the reason.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from exptable_desktop.core import actions, details, editing, queries, recording
from exptable_desktop.sdk import Task
from sdk_scripts import only_experiment_id, run


def _missing(module: str) -> bool:
    return importlib.util.find_spec(module) is None


needs_torch = pytest.mark.skipif(_missing("torch"), reason="torch is not installed (too heavy for the test extra)")
needs_sklearn = pytest.mark.skipif(_missing("sklearn"),
                                   reason="scikit-learn is not installed (with scipy, too heavy for the test extra)")
needs_keras = pytest.mark.skipif(_missing("keras"), reason="keras and its backend are not installed (too heavy)")


@pytest.fixture
def env(script_env):
    return dict(script_env, MPLBACKEND="Agg")


def _script(tmp_path: Path, text: str, name: str = "train.py") -> Path:
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def _ran(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stderr
    assert "exptable: could not record" not in done.stderr, done.stderr
    return only_experiment_id()


def _plots(exp_id: str) -> dict[tuple[str, str], list[dict]]:
    """Every stored plot by (title, series), oldest first, as the PLOTS tab reads it."""
    from exptable_desktop.store.schema import Plot

    out: dict[tuple[str, str], list[dict]] = {}
    for row in Plot.select().where(Plot.experiment == exp_id).order_by(Plot.iteration, Plot.id):
        figure = details.normalize_plot(row.kind, row.data)
        out.setdefault((row.metric, row.variant), []).append({"iteration": row.iteration, **figure})
    return out


def _samples(exp_id: str) -> dict[tuple[str, str], list[dict]]:
    out: dict[tuple[str, str], list[dict]] = {}
    for sample in sorted(details.debug_samples(exp_id), key=lambda s: s["iteration"]):
        out.setdefault((sample["metric"], sample["variant"]), []).append(sample)
    return out


def _args(exp_id: str, section: str = "Args") -> dict[str, dict]:
    return queries.experiment_detail(exp_id)["hyperparameters"].get(section, {})


def _output_models(exp_id: str) -> dict[str, dict]:
    """Output models as ``Task.get_task(...).models`` gives them, with the ARTIFACTS tab's size."""
    sizes = {m["name"]: m["size"] for m in details.artifacts(exp_id)["OUTPUT MODELS"]}
    return {m.name: {"url": m.url, "framework": m.framework, "saved_by": m.get_metadata("saved_by"),
                     "iteration": m._row["metadata"].get("_iteration"), "size": sizes[m.name]}
            for m in Task.get_task(exp_id).models["output"]}


# ---- cost when nothing is used ---------------------------------------------------------------

def test_no_framework_is_imported_or_patched_when_the_script_uses_none(tmp_path, env):
    script = _script(tmp_path, """
        import json, sys
        import exptable_desktop
        before = set(sys.modules)
        from exptable_desktop import Task
        task = Task.init("bind", "plain")
        task.get_logger().report_scalar("loss", "train", 0.5, 0)
        task.close()
        frameworks = ["matplotlib", "tensorboardX", "torch", "joblib", "sklearn", "keras", "click", "fire",
                      "absl", "hydra", "omegaconf"]
        print("RESULT " + json.dumps({
            "imported": sorted(m for m in frameworks if m in sys.modules),
            "bindings": sorted(m for m in sys.modules if m.startswith("exptable_desktop.sdk.bindings.")),
            "sdk_import_loads_bindings": any(m.startswith("exptable_desktop.sdk.bindings") for m in before)}))
        """)
    done = run(script, env)
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert result == {"imported": [], "bindings": ["exptable_desktop.sdk.bindings.imports"],
                      "sdk_import_loads_bindings": False}
    assert _ran(done)


# ---- matplotlib ------------------------------------------------------------------------------

MATPLOTLIB_SCRIPT = """
    import matplotlib.pyplot as plt
    from exptable_desktop import Task

    task = Task.init("bind", "matplotlib")
    plt.plot([1, 2, 3], [4.0, 5.0, 6.5], label="train")
    plt.title("loss curve")
    plt.xlabel("epoch")
    plt.show()
    plt.show()  # unchanged: not a new version
    plt.plot([1, 2, 3], [6.0, 5.0, 4.0], "o", label="val")
    plt.show()

    fig, axes = plt.subplots(1, 2)
    axes[0].imshow([[0, 1], [1, 0]])
    axes[1].plot([0, 1], [1, 0])
    fig.savefig("grid.png")

    plt.figure()
    plt.hist([1, 2, 2, 3, 3, 3], bins=3)
    plt.title("counts")
    plt.savefig("hist.png")

    plt.figure()
    plt.bar(["cat", "dog"], [3, 5])
    plt.title("pets")
    plt.show()
    """


def test_matplotlib_figures_shown_or_saved_become_plots_with_iterations_per_title(tmp_path, env):
    exp_id = _ran(run(_script(tmp_path, MATPLOTLIB_SCRIPT), env))
    plots = _plots(exp_id)
    curve = plots[("loss curve", "plot")]
    assert [p["iteration"] for p in curve] == [0, 1]
    assert curve[0]["kind"] == "line" and curve[0]["xaxis"] == "epoch"
    assert [(s["name"], s["x"], s["y"]) for s in curve[0]["series"]] == [("train", [1.0, 2.0, 3.0], [4.0, 5.0, 6.5])]
    assert [s["name"] for s in curve[1]["series"]] == ["train", "val"]
    assert plots[("counts", "plot")][0]["kind"] == "histogram"
    assert plots[("counts", "plot")][0]["counts"] == [1.0, 2.0, 3.0]
    pets = plots[("pets", "plot")][0]
    assert pets["kind"] == "bar" and pets["series"][0]["x"] == ["cat", "dog"] and pets["series"][0]["y"] == [3.0, 5.0]
    # Two axes with an image: not simple, so a PNG debug sample, recorded once although shown later.
    samples = _samples(exp_id)
    assert list(samples) == [("untitled 00", "plot image")]
    image = samples[("untitled 00", "plot image")]
    assert len(image) == 1
    assert Path(image[0]["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(plots) == {("loss curve", "plot"), ("counts", "plot"), ("pets", "plot")}


def test_matplotlib_imported_after_task_init_is_bound_on_import(tmp_path, env):
    script = _script(tmp_path, """
        from exptable_desktop import Task

        task = Task.init("bind", "late import")
        for step in range(3):
            task.get_logger().report_scalar("loss", "train", 1.0 / (step + 1), step * 10)
        import matplotlib.pyplot as plt
        plt.plot([0, 1], [0, 1])
        plt.title("after training")
        plt.savefig("out.png")
        plt.savefig("again.png")  # same iteration, same title: the reference's "title/1"
        """)
    plots = _plots(_ran(run(script, env)))
    # The script reports iterations, so figures land at its last one.
    assert [(key, [p["iteration"] for p in rows]) for key, rows in plots.items()] == [
        (("after training", "plot"), [20]), (("after training/1", "plot"), [20])]


def test_report_matplotlib_figure_and_an_explicit_figure_is_not_reported_again(tmp_path, env):
    script = _script(tmp_path, """
        import matplotlib.pyplot as plt
        from exptable_desktop import Task

        task = Task.init("bind", "explicit")
        logger = task.get_logger()
        fig = plt.figure()
        plt.scatter([1, 2, 3], [3, 1, 2], label="points")
        logger.report_matplotlib_figure("manual", "scatter", fig, iteration=7)
        logger.report_matplotlib_figure("manual", "as image", plt, iteration=8, report_image=True)
        plt.show()
        try:
            logger.report_matplotlib_figure("manual", "bad", [1, 2], iteration=9)
        except TypeError as exc:
            print("ERROR", exc)
        """)
    done = run(script, env)
    assert "ERROR report_matplotlib_figure needs a matplotlib Figure or pyplot, not list" in done.stdout
    exp_id = _ran(done)
    plots = _plots(exp_id)
    assert list(plots) == [("manual", "scatter")]
    scatter = plots[("manual", "scatter")][0]
    assert scatter["kind"] == "scatter" and scatter["iteration"] == 7
    assert scatter["series"][0]["y"] == [3.0, 1.0, 2.0]
    samples = _samples(exp_id)
    assert list(samples) == [("manual", "as image")] and samples[("manual", "as image")][0]["iteration"] == 8


def test_a_second_task_in_the_same_process_starts_its_own_counters(tmp_path, env):
    from exptable_desktop.store.schema import Experiment

    script = _script(tmp_path, """
        import matplotlib.pyplot as plt
        from exptable_desktop import Task

        for name in ("first", "second"):
            task = Task.init("bind", name)
            plt.figure()
            plt.plot([0, 1], [0, 1])
            plt.title("curve")
            plt.show()
            task.close()
        """)
    done = run(script, env)
    assert done.returncode == 0, done.stderr
    for experiment in Experiment.select():
        assert [p["iteration"] for p in _plots(experiment.id)[("curve", "plot")]] == [0], experiment.name


def test_a_dict_turns_bindings_off_with_the_reference_keys(tmp_path, env):
    script = _script(tmp_path, """
        import matplotlib.pyplot as plt
        import tensorboardX
        from exptable_desktop import Task

        task = Task.init("bind", "partial", auto_connect_frameworks={"matplotlib": False, "tensorboard": True,
                                                                      "pytorch": False})
        plt.plot([0, 1], [1, 0])
        plt.title("not recorded")
        plt.show()
        writer = tensorboardX.SummaryWriter("runs/partial")
        writer.add_scalar("loss", 0.25, 3)
        writer.close()
        """)
    exp_id = _ran(run(script, env))
    assert _plots(exp_id) == {}
    assert Task.get_task(exp_id).get_reported_scalars() == {"loss": {"loss": {"x": [3], "y": [0.25]}}}


def test_auto_connect_frameworks_false_records_no_framework(tmp_path, env):
    script = _script(tmp_path, """
        import matplotlib.pyplot as plt
        import tensorboardX
        from exptable_desktop import Task

        task = Task.init("bind", "off", auto_connect_frameworks=False)
        plt.plot([0, 1], [1, 0])
        plt.savefig("x.png")
        writer = tensorboardX.SummaryWriter("runs/off")
        writer.add_scalar("loss", 0.25, 3)
        writer.close()
        """)
    exp_id = _ran(run(script, env))
    assert _plots(exp_id) == {} and Task.get_task(exp_id).get_reported_scalars() == {}
    assert (tmp_path / "project" / "x.png").is_file()


# ---- TensorBoard -----------------------------------------------------------------------------

TENSORBOARD_SCRIPT = """
    import numpy as np
    from {module} import SummaryWriter
    from exptable_desktop import Task

    task = Task.init("bind", "tensorboard")
    writer = SummaryWriter("runs/exp/train")
    val_writer = SummaryWriter("runs/exp/val")
    for step in range(4):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_scalar("metrics/acc", 0.1 * step, step)
        val_writer.add_scalar("loss", 2.0 / (step + 1), step)
    writer.add_scalars("lr", {{"encoder": 0.01, "decoder": 0.02}}, 3)
    writer.add_image("samples/input", np.full((3, 4, 5), 0.5), 2)
    writer.add_histogram("weights", np.arange(100, dtype=np.float64), 3)
    writer.add_text("notes", "first run of the baseline", 1)
    writer.close()
    val_writer.close()
    """


def _check_tensorboard(exp_id: str, tmp_path: Path) -> None:
    scalars = Task.get_task(exp_id).get_reported_scalars()
    assert scalars["loss"]["loss"] == {"x": [0, 1, 2, 3], "y": [1.0, 0.5, pytest.approx(1 / 3), 0.25]}
    assert scalars["loss"]["val: loss"]["y"] == [2.0, 1.0, pytest.approx(2 / 3), 0.5]
    assert scalars["metrics"]["acc"] == {"x": [0, 1, 2, 3], "y": [0.0, 0.1, 0.2, pytest.approx(0.3)]}
    assert scalars["lr"] == {"encoder": {"x": [3], "y": [0.01]}, "decoder": {"x": [3], "y": [0.02]}}
    samples = _samples(exp_id)
    assert list(samples) == [("samples", "input")]
    assert samples[("samples", "input")][0]["iteration"] == 2
    assert Path(samples[("samples", "input")][0]["path"]).read_bytes()[:4] == b"\x89PNG"
    histogram = _plots(exp_id)[("Histograms", "weights")][0]
    assert histogram["kind"] == "histogram" and histogram["iteration"] == 3
    assert sum(histogram["counts"]) == 100
    console = [line for _, line in recording.read_console(exp_id)]
    assert "notes (step 1): first run of the baseline" in console
    # The event files are still written for TensorBoard itself.
    assert list((tmp_path / "project" / "runs" / "exp" / "train").glob("events.out.tfevents.*"))


def test_tensorboardx_scalars_images_histograms_and_text(tmp_path, env):
    script = _script(tmp_path, TENSORBOARD_SCRIPT.format(module="tensorboardX"))
    _check_tensorboard(_ran(run(script, env)), tmp_path)


@needs_torch
def test_torch_tensorboard_summary_writer(tmp_path, env):
    script = _script(tmp_path, TENSORBOARD_SCRIPT.format(module="torch.utils.tensorboard"))
    _check_tensorboard(_ran(run(script, env, timeout=180)), tmp_path)


def test_a_step_counter_that_restarts_each_epoch_keeps_counting(tmp_path, env):
    script = _script(tmp_path, """
        from tensorboardX import SummaryWriter
        from exptable_desktop import Task

        task = Task.init("bind", "epochs")
        writer = SummaryWriter("runs/epochs")
        for epoch in range(2):
            for step in range(0, 100, 50):
                writer.add_scalar("loss", epoch + step / 100, step)
        writer.close()
        """)
    scalars = Task.get_task(_ran(run(script, env))).get_reported_scalars()
    assert scalars["loss"]["loss"]["x"] == [0, 50, 51, 101]  # the second epoch continues after step 50


# ---- model files -----------------------------------------------------------------------------

def test_joblib_dump_records_an_output_model_pointing_at_the_file(tmp_path, env):
    script = _script(tmp_path, """
        import joblib
        from exptable_desktop import Task

        task = Task.init("bind", "joblib", auto_connect_frameworks={"joblib": ["*.joblib"]})
        weights = {"w": list(range(1000))}
        for epoch in range(3):
            weights["epoch"] = epoch
            joblib.dump(weights, "checkpoint.joblib")  # the same file each epoch: one model, updated
        joblib.dump(weights, "ignored.bin")  # not matching the wildcard
        with open("opened.joblib", "wb") as handle:
            joblib.dump(weights, handle)
        """)
    exp_id = _ran(run(script, env))
    models = _output_models(exp_id)
    assert set(models) == {"checkpoint.joblib", "opened.joblib"}
    model = models["checkpoint.joblib"]
    path = tmp_path / "project" / "checkpoint.joblib"
    assert model["url"] == str(path) and model["size"] == path.stat().st_size
    assert model["framework"] == "Joblib" and model["saved_by"] == "joblib.dump"
    assert models["opened.joblib"]["size"] == (tmp_path / "project" / "opened.joblib").stat().st_size > 0
    assert path.is_file()  # the file stays where the script saved it


def test_a_saved_model_is_copied_to_the_output_destination_and_the_scripts_file_stays(tmp_path, env):
    destination = tmp_path / "models-store"
    script = _script(tmp_path, f"""
        import joblib
        from exptable_desktop import Task

        task = Task.init("bind", "destination", output_uri={str(destination)!r})
        task.get_logger().report_scalar("loss", "train", 0.5, 5)
        joblib.dump([1, 2, 3], "weights.joblib")
        """)
    model = _output_models(_ran(run(script, env)))["weights.joblib"]
    assert Path(model["url"]).is_relative_to(destination) and Path(model["url"]).is_file()
    assert model["iteration"] == 5
    assert (tmp_path / "project" / "weights.joblib").is_file()


@needs_sklearn
def test_scikit_learn_models_saved_with_joblib_or_pickle(tmp_path, env):
    script = _script(tmp_path, """
        import pickle
        import joblib
        from sklearn.linear_model import LogisticRegression
        from exptable_desktop import Task

        task = Task.init("bind", "sklearn")
        model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        joblib.dump(model, "model.joblib")
        with open("model.pkl", "wb") as handle:
            pickle.dump(model, handle)
        with open("data.pkl", "wb") as handle:
            pickle.dump({"not": "a model"}, handle)
        """)
    models = _output_models(_ran(run(script, env)))
    assert set(models) == {"model.joblib", "model.pkl"}
    assert {m["framework"] for m in models.values()} == {"ScikitLearn"}
    assert models["model.pkl"]["saved_by"] == "pickle.dump"
    assert models["model.pkl"]["size"] == (tmp_path / "project" / "model.pkl").stat().st_size


@needs_torch
def test_torch_save_records_an_output_model(tmp_path, env):
    script = _script(tmp_path, """
        import io
        import torch
        from exptable_desktop import Task

        task = Task.init("bind", "torch")
        net = torch.nn.Linear(4, 2)
        task.get_logger().report_scalar("loss", "train", 0.5, 12)
        torch.save(net.state_dict(), "net.pt")
        torch.save(net.state_dict(), io.BytesIO())  # a stream is not a model file
        """)
    models = _output_models(_ran(run(script, env, timeout=180)))
    assert list(models) == ["net.pt"]
    assert models["net.pt"]["framework"] == "PyTorch"
    assert models["net.pt"]["iteration"] == 12


@needs_keras
def test_keras_model_save_records_an_output_model(tmp_path, env):
    script = _script(tmp_path, """
        import keras
        from exptable_desktop import Task

        task = Task.init("bind", "keras")
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.save("model.keras")
        """)
    models = _output_models(_ran(run(script, env, timeout=300)))
    assert models["model.keras"]["framework"] == "Keras"


# ---- argument parsers ------------------------------------------------------------------------

CLICK_SCRIPT = """
    import click
    from exptable_desktop import Task

    task = Task.init("bind", "click")

    @click.group()
    @click.option("--seed", type=int, default=1, help="random seed")
    def cli(seed):
        pass

    @cli.command()
    @click.option("--lr", type=float, default=0.1, help="learning rate")
    @click.option("--layers", type=int, multiple=True)
    @click.option("--shuffle/--no-shuffle", default=True)
    @click.argument("dataset")
    def train(lr, layers, shuffle, dataset):
        print("TRAIN", lr, list(layers), shuffle, dataset)

    @cli.command()
    def evaluate():
        pass

    if __name__ == "__main__":
        cli()
    """


def test_click_records_the_commands_parameters_after_parsing(tmp_path, env):
    done = run(_script(tmp_path, CLICK_SCRIPT), env, "--seed", "7", "train", "--lr", "0.01", "--layers", "2",
               "--layers", "3", "--no-shuffle", "mnist")
    args = _args(_ran(done))
    assert "TRAIN 0.01 [2, 3] False mnist" in done.stdout
    assert {k: (v["value"], v["type"]) for k, v in args.items()} == {
        "seed": ("7", "int"), "train": ("True", "click.Command"), "train/lr": ("0.01", "float"),
        "train/layers": ("[2, 3]", "list"), "train/shuffle": ("False", "bool"), "train/dataset": ("mnist", "str")}
    assert args["train/lr"]["description"] == "learning rate"


def test_click_command_that_calls_task_init_itself(tmp_path, env):
    script = _script(tmp_path, """
        import click
        from exptable_desktop import Task

        @click.command()
        @click.option("--epochs", type=int, default=3)
        def main(epochs):
            Task.init("bind", "click inside")

        main()
        """)
    args = _args(_ran(run(script, env, "--epochs", "5")))
    assert {k: v["value"] for k, v in args.items()} == {"epochs": "5"}


def _enqueued_with(args: dict[str, tuple[str, str]], section: str = "Args") -> str:
    exp_id = recording.create_experiment("bind", "queued")
    editing.require(editing.set_hyperparams([exp_id], section, {
        name: {"value": value, "type": kind, "description": ""} for name, (value, kind) in args.items()}))
    assert actions.enqueue([exp_id], "default").succeeded == [exp_id]
    return exp_id


def test_click_under_an_agent_runs_with_the_edited_parameters(tmp_path, env):
    exp_id = _enqueued_with({"seed": ("3", "int"), "train": ("True", "click.Command"),
                             "train/lr": ("0.5", "float"), "train/layers": ("[4]", "list"),
                             "train/shuffle": ("True", "bool"), "train/dataset": ("cifar", "str")})
    done = run(_script(tmp_path, CLICK_SCRIPT), dict(env, EXPTABLE_TASK_ID=exp_id))
    assert done.returncode == 0, done.stderr
    assert "TRAIN 0.5 [4] True cifar" in done.stdout


FIRE_SCRIPT = """
    import fire
    from exptable_desktop import Task

    task = Task.init("bind", "fire")

    class Trainer:
        def __init__(self, seed=0):
            self.seed = seed

        def train(self, lr=0.1, epochs=2, tags=("a",)):
            print("TRAIN", self.seed, lr, epochs, list(tags))

    if __name__ == "__main__":
        fire.Fire(Trainer)
    """


def test_fire_records_the_commands_arguments_not_fires_flags(tmp_path, env):
    done = run(_script(tmp_path, FIRE_SCRIPT), env, "--seed=4", "train", "--lr", "0.02", "--", "--verbose")
    assert "TRAIN 4 0.02 2 ['a']" in done.stdout
    args = _args(_ran(done))
    assert {k: (v["value"], v["type"]) for k, v in args.items()} == {
        "seed": ("4", "int"), "train": ("True", "fire.Command"), "train/lr": ("0.02", "float"),
        "train/epochs": ("2", "int"), "train/tags": ('["a"]', "tuple")}


def test_fire_function_that_calls_task_init_itself(tmp_path, env):
    script = _script(tmp_path, """
        import fire
        from exptable_desktop import Task

        def main(data, lr=0.1, *, batch=32):
            Task.init("bind", "fire inside")

        fire.Fire(main)
        """)
    args = _args(_ran(run(script, env, "train.csv", "--batch=64")))
    assert {k: v["value"] for k, v in args.items()} == {"data": "train.csv", "lr": "0.1", "batch": "64"}


def test_fire_under_an_agent_runs_with_the_edited_arguments(tmp_path, env):
    exp_id = _enqueued_with({"seed": ("9", "int"), "train": ("True", "fire.Command"),
                             "train/lr": ("0.7", "float"), "train/epochs": ("5", "int"),
                             "train/tags": ('["x", "y"]', "tuple")})
    done = run(_script(tmp_path, FIRE_SCRIPT), dict(env, EXPTABLE_TASK_ID=exp_id))
    assert done.returncode == 0, done.stderr
    assert "TRAIN 9 0.7 5 ['x', 'y']" in done.stdout


ABSL_SCRIPT = """
    from absl import app, flags
    from exptable_desktop import Task

    FLAGS = flags.FLAGS
    flags.DEFINE_float("lr", 0.1, "learning rate")
    flags.DEFINE_integer("epochs", 2, "passes over the data")
    flags.DEFINE_list("layers", ["8", "8"], "layer widths")

    def main(argv):
        Task.init("bind", "absl")
        print("TRAIN", FLAGS.lr, FLAGS.epochs, FLAGS.layers)

    if __name__ == "__main__":
        app.run(main)
    """


def test_absl_flags_the_script_defines_are_recorded(tmp_path, env):
    done = run(_script(tmp_path, ABSL_SCRIPT), env, "--lr=0.03", "--layers=16,4", "--verbosity=1")
    params = _args(_ran(done), "TF_DEFINE")
    assert {k: (v["value"], v["type"]) for k, v in params.items()} == {
        "lr": ("0.03", "float"), "epochs": ("2", "int"), "layers": ('["16", "4"]', "list")}
    assert params["lr"]["description"] == "learning rate"


def test_absl_flags_under_an_agent_take_the_edited_values(tmp_path, env):
    exp_id = _enqueued_with({"lr": ("0.9", "float"), "layers": ('["1"]', "list")}, section="TF_DEFINE")
    done = run(_script(tmp_path, ABSL_SCRIPT), dict(env, EXPTABLE_TASK_ID=exp_id))
    assert done.returncode == 0, done.stderr
    assert "TRAIN 0.9 2 ['1']" in done.stdout


HYDRA_SCRIPT = """
    import hydra
    from omegaconf import DictConfig
    from exptable_desktop import Task

    @hydra.main(version_base=None, config_path="conf", config_name="config")
    def main(cfg: DictConfig) -> None:
        Task.init("bind", "hydra")
        print("TRAIN", cfg.optim.lr, cfg.model.depth)

    if __name__ == "__main__":
        main()
    """


def _hydra_project(tmp_path: Path) -> Path:
    script = _script(tmp_path, HYDRA_SCRIPT)
    (script.parent / "conf").mkdir()
    (script.parent / "conf" / "config.yaml").write_text("optim:\n  lr: 0.1\nmodel:\n  depth: 4\n"
                                                         "  name: net-${model.depth}\n")
    return script


def test_hydra_config_and_overrides_are_recorded(tmp_path, env):
    done = run(_hydra_project(tmp_path), env, "optim.lr=0.05", "hydra.run.dir=outputs/run")
    exp_id = _ran(done)
    assert "TRAIN 0.05 4" in done.stdout
    params = _args(exp_id, "Hydra")
    assert {k: v["value"] for k, v in params.items()} == {"optim.lr": "0.05", "_allow_omegaconf_edit_": "False"}
    config = details.configuration(exp_id)["objects"]["OmegaConf"]
    assert config["content_type"] == "yaml"
    assert "lr: 0.05" in config["value"] and "name: net-${model.depth}" in config["value"]


def test_hydra_under_an_agent_applies_the_edited_overrides(tmp_path, env):
    exp_id = _enqueued_with({"optim.lr": ("0.25", "str"), "model.depth": ("8", "str")}, section="Hydra")
    done = run(_hydra_project(tmp_path), dict(env, EXPTABLE_TASK_ID=exp_id), "hydra.run.dir=outputs/run")
    assert done.returncode == 0, done.stderr
    assert "TRAIN 0.25 8" in done.stdout


def test_hydra_multirun_makes_one_experiment_per_job(tmp_path, env):
    from exptable_desktop.store.schema import Experiment

    done = run(_hydra_project(tmp_path), env, "-m", "optim.lr=0.1,0.2", "hydra.sweep.dir=multirun")
    assert done.returncode == 0, done.stderr
    experiments = list(Experiment.select().order_by(Experiment.created))
    assert [e.status for e in experiments] == ["completed", "completed"]
    assert [_args(e.id, "Hydra")["optim.lr"]["value"] for e in experiments] == ["0.1", "0.2"]
