"""``exptable://`` links in the window: opening them, and taking them over a local socket.

A running window listens on a QLocalServer named after its database URL and user (a hash, so the
name holds no password). ``exptable open URL`` first offers the link there: the running window
opens it and comes to the front; only when nobody answers does a new window start. One line goes
each way: the URL, then ``ok <what was opened>`` or ``error <why>``.
"""
from __future__ import annotations

import hashlib
import sys

from PySide6.QtCore import QObject, Qt
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from exptable_desktop.core import links
from exptable_desktop.core.named_views import resolve_project
from exptable_desktop.core.viewstate import scope_name, state_from_dict
from exptable_desktop.core import database

TIMEOUT_MS = 3000
MAX_LINK_BYTES = 64 * 1024
_app = None  # the QApplication send_link made: run_gui uses the same one


def server_name(db_url: str, user: str) -> str:
    digest = hashlib.sha256(f"{db_url}\0{user}".encode()).hexdigest()[:24]
    return f"exptable-{digest}"


# ---- Opening a link in a window -------------------------------------------------------------------------

def _show_scope(window, project_id: int | None, archive: bool) -> None:
    """Put ``project_id`` on screen (its last layout, no search), in or out of the archive."""
    deep = window.current_scope()[1]
    state = state_from_dict(database.load_saved_view(window.user, scope_name(project_id, deep)),
                            project_id is None or deep)
    window.show_view(project_id, deep, archive, state)


def open_link(window, url: str) -> str:
    """Show what ``url`` links to in ``window``; returns what was opened. LinkError when it cannot."""
    link = links.parse_link(url)
    if isinstance(link, links.ExperimentLink):
        row = database.experiment_place(link.experiment_id)
        if row is None:
            raise links.LinkError(f"no experiment {link.experiment_id} in this database")
        exp_id = row.id
        if exp_id not in window.scope_ids() or window.is_archive_mode() != row.archived:
            _show_scope(window, row.project_id, row.archived)
        if not window.select_experiment(exp_id):
            window.search_box.clear()
            window.clear_filters()
            window.select_experiment(exp_id)
        controller = getattr(window, "action_controller", None)
        if controller is not None:
            controller.open_details(exp_id)
        return f'experiment "{row.name}"'
    if isinstance(link, links.CompareLink):
        found = database.existing_experiment_ids(link.ids)
        ids = [i for i in link.ids if i in found]
        if len(ids) < 2:
            raise links.LinkError("fewer than 2 of the linked experiments are in this database")
        if not set(ids) <= set(window.scope_ids()):
            _show_scope(window, None, False)
        window.clear_checked()
        window.set_checked(ids, True)
        window.set_view_mode("comparison")
        missing = len(link.ids) - len(ids)
        return f"a comparison of {len(ids)} experiments" + (f" ({missing} not found)" if missing else "")
    spec = link.spec
    project_id, note = resolve_project(spec)
    window.show_view(project_id, spec.deep, spec.archive, spec.table, spec.search, spec.regex)
    if note:
        window.show_message(f"The linked view: {note}")
    return f'the view "{link.name}"' if link.name else "the linked view"


def bring_to_front(window) -> None:
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()


def open_link_reporting(window, url: str) -> str:
    """``open_link``, with the outcome in the status bar; returns the reply line for a sender."""
    try:
        what = open_link(window, url)
    except links.LinkError as exc:
        window.show_message(f"Cannot open the link: {exc}")
        return f"error {exc}"
    bring_to_front(window)
    return f"ok {what}"


# ---- The local server ---------------------------------------------------------------------------------

class LinkServer(QObject):
    """Takes links for ``window`` from other processes (``exptable open``)."""

    def __init__(self, window, name: str):
        super().__init__(window)
        self.window = window
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_connection)
        self.received: list[str] = []

    def listen(self) -> bool:
        """Start serving, unless a window already does (it keeps the links). Asked first: on Unix a
        second listen would silently take the name over."""
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        if probe.waitForConnected(300):
            probe.abort()
            return False
        QLocalServer.removeServer(self.name)  # left behind by a window that did not close cleanly
        return self.server.listen(self.name)

    def _on_connection(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            buffer = bytearray()

            def read(sock=socket, data=buffer):
                data.extend(bytes(sock.readAll()))
                if b"\n" not in data and len(data) < MAX_LINK_BYTES:
                    return
                url = bytes(data).split(b"\n", 1)[0].decode("utf-8", "replace").strip()
                sock.readyRead.disconnect()
                self.received.append(url)
                reply = open_link_reporting(self.window, url)
                sock.write((reply.replace("\n", " ") + "\n").encode())
                sock.flush()
                sock.disconnectFromServer()
            socket.readyRead.connect(read, Qt.ConnectionType.QueuedConnection)
            socket.disconnected.connect(socket.deleteLater)

    def close(self) -> None:
        self.server.close()


def install_link_server(window) -> LinkServer | None:
    """Serve links for ``window``; None when another window on the same database and user does."""
    server = LinkServer(window, server_name(window.db_url, window.user))
    if not server.listen():
        server.deleteLater()
        return None
    window.link_server = server
    return server


def send_link(db_url: str, user: str, url: str, timeout_ms: int = TIMEOUT_MS) -> str | None:
    """Offer ``url`` to a running window; its reply line, or None when no window listens."""
    global _app
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        _app = QApplication(sys.argv[:1])
    socket = QLocalSocket()
    socket.connectToServer(server_name(db_url, user))
    if not socket.waitForConnected(timeout_ms):
        return None
    socket.write((url.replace("\n", " ") + "\n").encode())
    socket.waitForBytesWritten(timeout_ms)
    reply = bytearray()
    while b"\n" not in reply and socket.waitForReadyRead(timeout_ms * 5):
        reply.extend(bytes(socket.readAll()))
    socket.disconnectFromServer()
    return bytes(reply).decode("utf-8", "replace").strip() or "error the running window did not answer"
