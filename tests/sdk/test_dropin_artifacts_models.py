"""Scripts written for the reference SDK: artifacts as objects, registered DataFrames, output and input models.

Each script runs in a subprocess; the results are read back through ``Task.get_task``.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from exptable_desktop.store.schema import Artifact
from sdk_scripts import run

pd = pytest.importorskip("pandas", reason="the scripts report DataFrames")
pytest.importorskip("PIL.Image", reason="the scripts upload a PIL image")


def _script(tmp_path: Path, text: str, name: str = "train.py") -> Path:
    path = tmp_path / "work" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


ARTIFACTS = """
    import time
    import numpy as np
    import pandas as pd
    from PIL import Image
    from exptable_desktop import Task

    task = Task.init(project_name="dropin", task_name="artifacts")
    task.upload_artifact("embedding", np.arange(12, dtype=np.float32).reshape(3, 4))
    task.upload_artifact("summary", {"epochs": 3, "best": 0.91}, metadata={"stage": "final"})
    task.upload_artifact("frame", pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    task.upload_artifact("thumbnail", Image.new("RGB", (8, 6), (255, 0, 0)))
    task.upload_artifact("notes", "free text")
    task.upload_artifact("labels", {"cat", "dog"})  # anything else is pickled, as the reference
    task.upload_artifact("data", "data")  # a folder, zipped
    task.upload_artifact("weights", "model.bin", delete_after_upload=False)
    task.upload_artifact("custom", [1, 2], serialization_function=lambda o: bytes(o), extension_name=".bin")

    audit = pd.DataFrame({"id": [1], "score": [0.5]})
    task.register_artifact("audit", audit, metadata={"kind": "audit"})
    assert task.get_registered_artifacts()["audit"] is audit
    audit.loc[1] = [2, 0.75]               # changed: stored again by the writer within a few seconds
    reader = Task.get_task(task_id=task.id)  # reads the database only
    deadline = time.time() + 20
    while time.time() < deadline and len(reader.artifacts["audit"].get()) != 2:
        time.sleep(0.2)
    print("SEEN", len(reader.artifacts["audit"].get()), flush=True)
    audit.loc[2] = [3, 0.9]                # changed just before the end: stored at exit
    """


def test_artifacts_come_back_as_objects(tmp_path, script_env):
    from PIL import Image

    from exptable_desktop import Task

    script = _script(tmp_path, ARTIFACTS)
    (script.parent / "data" / "sub").mkdir(parents=True)
    (script.parent / "data" / "a.txt").write_text("alpha")
    (script.parent / "data" / "sub" / "b.txt").write_text("beta")
    (script.parent / "model.bin").write_bytes(b"\x01\x02")
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    assert "SEEN 2" in done.stdout  # picked up while the script ran
    artifacts = Task.get_task(project_name="dropin", task_name="artifacts").artifacts
    embedding = artifacts["embedding"]
    assert embedding.type == "numpy" and embedding.url.endswith("embedding.npz")
    assert embedding.get().dtype == np.float32 and embedding.get()[2, 3] == 11
    assert embedding.size == Path(embedding.url).stat().st_size and len(embedding.hash) == 64
    assert "shape=(3, 4)" in embedding.preview
    summary = artifacts["summary"]
    assert (summary.type, summary.get(), summary.metadata) == ("dict", {"epochs": 3, "best": 0.91},
                                                                {"stage": "final"})
    frame = artifacts["frame"].get()
    assert artifacts["frame"].type == "pandas" and frame["b"].tolist() == ["x", "y"]
    image = artifacts["thumbnail"].get()
    assert isinstance(image, Image.Image) and image.size == (8, 6) and image.getpixel((0, 0)) == (255, 0, 0)
    assert (artifacts["notes"].type, artifacts["notes"].get()) == ("string", "free text")
    assert (artifacts["labels"].type, artifacts["labels"].get()) == ("pickle", {"cat", "dog"})
    folder = Path(artifacts["data"].get_local_copy())  # a zipped folder comes back extracted
    assert artifacts["data"].type == "archive"
    assert (folder / "sub" / "b.txt").read_text() == "beta"
    assert Path(artifacts["weights"].get()).read_bytes() == b"\x01\x02"  # any other file: its path
    assert Path(artifacts["custom"].get_local_copy()).read_bytes() == b"\x01\x02"
    audit = artifacts["audit"].get()
    assert audit["score"].tolist() == [0.5, 0.75, 0.9]  # the change made just before the end is there
    assert artifacts["audit"].metadata == {"kind": "audit"}
    assert set(artifacts) == {"embedding", "summary", "frame", "thumbnail", "notes", "labels", "data", "weights",
                              "custom", "audit"}


MODELS = """
    import json
    from exptable_desktop import OutputModel, Task
    from exptable_desktop.model import Framework

    task = Task.init(project_name="dropin", task_name="train-model", output_uri="{out}")
    task.set_model_label_enumeration({{"cat": 0, "dog": 1}})
    model = OutputModel(task=task, name="classifier", framework=Framework.pytorch,
                        config_dict={{"layers": 3}}, tags=["v1"])
    task.get_logger().report_scalar("loss", "train", 0.1, iteration=7)
    uri = model.update_weights(weights_filename="model.pt")
    model.update_design(config_text="layers: 4")
    model.set_metadata("accuracy", 0.93, "float")
    model.publish()
    try:
        model.update_weights(weights_filename="other.pt")
    except ValueError as exc:
        print("REFUSED", exc)
    package = OutputModel(task=task, name="bundle", config_text="tokenizer + weights")
    package.update_weights_package(weights_path="bundle")
    local = OutputModel(name="in-place")      # the current task
    local.update_weights(register_uri="elsewhere.pt")
    print("MODEL", model.id, uri)
    """

USES = """
    from exptable_desktop import InputModel, Task

    task = Task.init(project_name="dropin", task_name="fine-tune")
    base = InputModel(model_id="{model_id}")
    task.connect(base, name="base")
    print("WEIGHTS", open(base.get_weights(), "rb").read())
    bundle = InputModel(name="bundle", project="dropin")
    print("PACKAGE", sorted(p.name for p in __import__("pathlib").Path(bundle.get_local_copy()).iterdir()))
    imported = InputModel.import_model("imported.onnx", name="imported", framework="ONNX",
                                       label_enumeration={{"a": 0}})
    task.connect(imported)
    print("LABELS", task.get_labels_enumeration())
    """


def test_output_and_input_models(tmp_path, script_env):
    from exptable_desktop import InputModel, Task

    out = tmp_path / "outputs"
    script = _script(tmp_path, MODELS.format(out=out))
    (script.parent / "model.pt").write_bytes(b"weights-v1")
    (script.parent / "other.pt").write_bytes(b"weights-v2")
    (script.parent / "elsewhere.pt").write_bytes(b"kept")
    (script.parent / "bundle").mkdir()
    (script.parent / "bundle" / "vocab.txt").write_text("a b c")
    (script.parent / "bundle" / "weights.bin").write_bytes(b"\x00" * 10)
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    assert "REFUSED model 'classifier' is published and cannot be changed" in done.stdout
    model_id = done.stdout.split("MODEL ")[1].split()[0]
    task = Task.get_task(project_name="dropin", task_name="train-model")
    outputs = task.models["output"]
    assert [m.name for m in outputs] == ["classifier", "bundle", "in-place"]
    model = outputs["classifier"]
    assert model.id == model_id and model.framework == "PyTorch" and model.tags == ["v1"]
    assert model.labels == {"cat": 0, "dog": 1}  # the task's labels, taken when the model was made
    assert model.config_text == "layers: 4" and model.published
    assert model.get_metadata("accuracy") == "0.93"
    # With output_uri the weights are copied under it (reference layout) and the local file is removed.
    assert Path(model.url).read_bytes() == b"weights-v1" and out in Path(model.url).parents
    assert "/train-model." in model.url and not (script.parent / "model.pt").exists()
    assert (script.parent / "other.pt").exists()
    assert Path(outputs["in-place"].url) == (script.parent / "elsewhere.pt").resolve()
    row = Artifact.get((Artifact.experiment == task.id) & (Artifact.name == "classifier"))
    assert row.kind == "model" and row.mode == "output" and '"_iteration": 7' in row.metadata

    uses = _script(tmp_path, USES.format(model_id=model_id), name="finetune.py")
    (uses.parent / "imported.onnx").write_bytes(b"onnx")
    done = run(uses, script_env)
    assert done.returncode == 0, done.stderr
    assert "WEIGHTS b'weights-v1'" in done.stdout
    assert "PACKAGE ['vocab.txt', 'weights.bin']" in done.stdout
    assert "LABELS {'cat': 0, 'dog': 1}" in done.stdout  # from the first model connected; later ones keep them
    fine = Task.get_task(project_name="dropin", task_name="fine-tune")
    inputs = fine.models["input"]
    assert [m.name for m in inputs] == ["base", "imported"]
    assert inputs["base"].id == model_id and inputs["base"].url == model.url
    assert InputModel(model_id=model_id).task == task.id  # the id leads to the run that made it
    assert Path(InputModel(model_id=inputs["imported"].id).get_weights()).read_bytes() == b"onnx"
    with pytest.raises(ValueError, match="no model with id nope"):
        InputModel(model_id="nope")


def test_models_are_listed_in_the_artifacts_tab(tmp_path, script_env, qtbot):
    from exptable_desktop import Task
    from exptable_desktop.ui.details.artifacts_tab import ArtifactsTab

    script = _script(tmp_path, """
        from exptable_desktop import OutputModel, Task
        task = Task.init(project_name="dropin", task_name="tab")
        model = OutputModel(task, name="net", framework="Keras", config_dict={"units": 8},
                            label_enumeration={"a": 0})
        model.update_weights("net.h5")
        """)
    (script.parent / "net.h5").write_bytes(b"h5")
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    tab = ArtifactsTab()
    qtbot.addWidget(tab)
    tab.load(Task.get_task(project_name="dropin", task_name="tab").id)
    group = tab.nav.topLevelItem(0)
    assert group.text(0) == "OUTPUT MODELS" and group.child(0).text(0) == "net"
    assert "Framework: Keras" in tab.model_label.text() and "Labels: a=0" in tab.model_label.text()
    assert tab.preview_title.text() == "DESIGN" and '"units": 8' in tab.preview.toPlainText()
