"""Custom actions: definitions, placeholders, commands without a shell, HTTP requests to a local server."""
from __future__ import annotations

import http.server
import json
import sys
import threading

import pytest

from exptable_desktop.core import custom_actions as ca

HOSTILE = "$(touch {marker}); rm -rf x `touch {marker}` \"'; {{id}} {{"


def _rows(marker, n=1):
    name = HOSTILE.format(marker=marker)
    return [{"id": f"id{i}", "name": name if i == 0 else f"run {i}", "project": "vision/cnn",
             "status": "completed", "type": "training"} for i in range(n)]


def _echo_args(*extra) -> list[str]:
    return [sys.executable, "-c", "import json, sys; print(json.dumps(sys.argv[1:]))", *extra]


def test_placeholders_stay_one_argument_and_experiment_text_never_reaches_a_shell(tmp_path):
    marker = tmp_path / "pwned"
    rows = _rows(marker)
    action = ca.validate(ca.CustomAction("Echo", command=_echo_args("--name={name}", "{id}", "{project}", '{"literal": {}}')))
    assert action.per_experiment
    report = ca.run_action(action, rows, "sqlite:///x.db")
    assert report.ok, report.summary()
    assert json.loads(report.results[0].output) == [f"--name={rows[0]['name']}", "id0", "vision/cnn", '{"literal": {}}']
    assert not marker.exists()


def test_ids_alone_becomes_one_argument_per_experiment_and_runs_once(tmp_path):
    rows = _rows(tmp_path / "pwned", 3)
    action = ca.validate(ca.CustomAction("All", command=_echo_args("{ids}", "joined={ids}", "{db}")))
    assert not action.per_experiment
    report = ca.run_action(action, rows, "postgresql://me:***@host/db")
    assert len(report.results) == 1
    assert json.loads(report.results[0].output) == ["id0", "id1", "id2", "joined=id0,id1,id2",
                                                    "postgresql://me:***@host/db"]


def test_only_matching_statuses_and_types_run(tmp_path):
    rows = _rows(tmp_path / "m", 3)
    rows[1]["status"] = "failed"
    rows[2]["type"] = "testing"
    action = ca.validate(ca.CustomAction("Failed training", command=_echo_args("{id}"),
                                         statuses=["failed"], types=["training"]))
    assert ca.eligible_count(action, rows) == 1
    report = ca.run_action(action, rows, "")
    assert [json.loads(r.output) for r in report.results] == [["id1"]] and report.skipped == 2
    assert "2 skipped" in report.summary()
    closed = dict(rows[0], status="closed")
    assert ca.validate(ca.CustomAction("c", command=["x"], statuses=["completed"])).applies_to(closed["status"],
                                                                                                 "training")


@pytest.mark.parametrize("command, words", [
    ([sys.executable, "-c", "import sys; sys.exit(3)"], "failed: exit status 3"),
    (["no-such-program-xyz", "{id}"], "failed: command not found: no-such-program-xyz"),
    ([sys.executable, "-c", "import time; time.sleep(5)"], "failed: timed out after 0.5 s"),
])
def test_a_failure_is_one_clear_line(tmp_path, command, words):
    action = ca.validate(ca.CustomAction("Tool", command=command, timeout=0.5))
    report = ca.run_action(action, _rows(tmp_path / "m"), "")
    assert not report.ok and report.summary() == f'"Tool" {words}'


@pytest.mark.parametrize("action, words", [
    (ca.CustomAction("", command=["x"]), "needs a name"),
    (ca.CustomAction("a", command=[]), "command is empty"),
    (ca.CustomAction("a", command=["x", "{nope}"]), "unknown placeholder {nope}"),
    (ca.CustomAction("a", command=["x", "a{b} {"]), "unknown placeholder {b}"),
    (ca.CustomAction("a", command=["x", "{ a }", "{}"]), None),
    (ca.CustomAction("a", command=["{id}"]), "program itself"),
    (ca.CustomAction("a", command=["sh", "-c", "echo {name}"]), "would run experiment text as code"),
    (ca.CustomAction("a", command=["bash", "-c", "echo $1", "bash", "{name}"]), None),
    (ca.CustomAction("a", command=["python3", "-c", "print('{name}')"]), "as code"),
    (ca.CustomAction("a", kind="http", url="ftp://x/{id}"), "http:// or https://"),
    (ca.CustomAction("a", kind="http", url="http://x/", body='{"a": {id}'), "not JSON once filled in"),
    (ca.CustomAction("a", kind="http", url="http://x/", method="BREW"), "method must be"),
    (ca.CustomAction("a", command=["x"], statuses=["sleeping"]), "unknown status"),
    (ca.CustomAction("a", command=["x"], timeout=0), "timeout must be between"),
])
def test_definitions_are_checked(action, words):
    if words is None:
        ca.validate(action)
        return
    with pytest.raises(ca.CustomActionError, match=words.replace("(", r"\(").replace("{", r"\{")):
        ca.validate(action)


def test_actions_are_kept_in_the_user_config_folder(tmp_path):
    path = ca.config_path()
    assert str(path).startswith(str(tmp_path))  # conftest points XDG_CONFIG_HOME into the test's folder
    assert ca.load_actions() == []
    actions = [ca.CustomAction("Echo", command=["echo", "{id}"], statuses=["failed"]),
               ca.CustomAction("Hook", kind="http", method="PUT", url="https://ci/x?run={id}", body='{"r": {ids}}')]
    ca.save_actions(actions)
    assert [a.to_dict() for a in ca.load_actions()] == [a.to_dict() for a in actions]
    with pytest.raises(ca.CustomActionError, match="two actions are named"):
        ca.save_actions(actions + [ca.CustomAction("echo", command=["x"])])
    path.write_text("{broken", encoding="utf-8")
    with pytest.raises(ca.CustomActionError, match="cannot read"):
        ca.load_actions()


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        type(self).requests.append((self.command, self.path, self.headers.get("Content-Type"), body))
        status = 500 if "fail" in self.path else 201
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"queued": true}' if status == 201 else b'{"error": "boom"}')

    do_POST = do_PUT = do_GET = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_requests_carry_json_encoded_values(http_server, tmp_path):
    rows = _rows(tmp_path / "m", 2)
    action = ca.validate(ca.CustomAction(
        "Hook", kind="http", method="POST", url=http_server + "/hooks/{project}?run={id}",
        body='{"id": {id}, "name": {name}, "project": {project}, "db": {db}}'))
    report = ca.run_action(action, rows, "sqlite:///a b.db")
    assert report.ok and [r.status for r in report.results] == ["HTTP 201", "HTTP 201"]
    method, path, content_type, body = _Recorder.requests[0]
    assert method == "POST" and path == "/hooks/vision%2Fcnn?run=id0" and content_type == "application/json"
    assert json.loads(body) == {"id": "id0", "name": rows[0]["name"], "project": "vision/cnn", "db": "sqlite:///a b.db"}
    assert report.results[0].output == '{"queued": true}'


def test_one_request_for_all_with_ids_as_a_json_list(http_server, tmp_path):
    action = ca.validate(ca.CustomAction("All", kind="http", method="PUT", url=http_server + "/batch",
                                         body='{"runs": {ids}}'))
    report = ca.run_action(action, _rows(tmp_path / "m", 3), "")
    assert len(report.results) == 1
    assert json.loads(_Recorder.requests[0][3]) == {"runs": ["id0", "id1", "id2"]}


def test_http_failures_are_one_clear_line(http_server, tmp_path):
    failing = ca.validate(ca.CustomAction("Hook", kind="http", method="GET", url=http_server + "/fail/{id}"))
    report = ca.run_action(failing, _rows(tmp_path / "m"), "")
    assert report.summary() == '"Hook" failed: HTTP 500 Internal Server Error'
    assert report.results[0].output == '{"error": "boom"}'
    closed = ca.validate(ca.CustomAction("Down", kind="http", url="http://127.0.0.1:9/x", timeout=2))
    report = ca.run_action(closed, _rows(tmp_path / "m"), "")
    assert report.summary().startswith('"Down" failed: cannot reach 127.0.0.1:9')
