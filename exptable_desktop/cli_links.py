"""``exptable open URL`` and ``exptable install-desktop``: exptable:// links from outside the window.

``open`` hands the link to a window already running on the same database (and user), which comes
to the front; without one it starts the window there. ``install-desktop`` registers the
``exptable://`` scheme with the Linux desktop (freedesktop.org): a ``.desktop`` file in
``$XDG_DATA_HOME/applications``, the icon in the hicolor theme, and the scheme's default
application in ``$XDG_CONFIG_HOME/mimeapps.list``.

Registered by ``cli.build_parser``; Qt is imported only when a window is to be talked to or shown.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from exptable_desktop import cli

DESKTOP_FILE = "exptable.desktop"
SCHEME_MIME = "x-scheme-handler/exptable"
ICON_NAME = "exptable"


def cmd_open(args) -> int:
    from exptable_desktop.core.links import LinkError, parse_link
    from exptable_desktop.paths import current_user
    from exptable_desktop.store.db import close_database, resolve_db_url

    try:
        parse_link(args.url)
    except LinkError as exc:
        raise cli.UsageError(str(exc)) from None
    cli._check_display()
    url = resolve_db_url(args.db)
    try:
        from exptable_desktop.ui.link_server import send_link
    except ImportError as exc:
        raise cli.CliError(f"the desktop window cannot start: {exc}") from None
    reply = send_link(url, current_user(), args.url)
    if reply is not None:
        status, _, what = reply.partition(" ")
        if status != "ok":
            raise cli.CliError(f"the running window cannot open the link: {what or reply}")
        print(f"opened {what} in the running window")
        return 0
    cli._open(args, create=False)
    close_database()
    from exptable_desktop.ui.app import run_gui
    return int(run_gui(url, link=args.url) or 0)


# ---- install-desktop ------------------------------------------------------------------------------------

def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def _quote_exec(argument: str) -> str:
    """An argument of a .desktop Exec line (freedesktop.org Desktop Entry spec, "The Exec key")."""
    if argument and not any(c in argument for c in ' \t\n"\'\\><~|&;$*?#()`%='):
        return argument
    escaped = argument.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'.replace("%", "%%")


def launcher_command() -> list[str]:
    """How the desktop starts this ExpTable: the ``exptable`` script beside this Python, or ``python -m``."""
    script = Path(sys.executable).with_name("exptable")
    if script.exists():
        return [str(script)]
    found = shutil.which("exptable")
    return [found] if found else [sys.executable, "-m", "exptable_desktop"]


def desktop_entry(command: list[str]) -> str:
    exec_line = " ".join(_quote_exec(part) for part in command) + " open %u"
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.5",
        "Name=ExpTable",
        "GenericName=Experiment manager",
        "Comment=Browse, compare and run machine-learning experiments",
        f"Exec={exec_line}",
        f"TryExec={command[0]}",
        f"Icon={ICON_NAME}",
        "Terminal=false",
        "Categories=Development;Science;",
        f"MimeType={SCHEME_MIME};",
        "StartupWMClass=ExpTable",
        "",
    ])


def _set_default_handler(mimeapps: Path) -> None:
    """``x-scheme-handler/exptable=exptable.desktop`` under [Default Applications], the rest kept."""
    lines = mimeapps.read_text(encoding="utf-8").splitlines() if mimeapps.exists() else []
    out, section, placed = [], None, False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if section == "[Default Applications]" and not placed:
                out.append(f"{SCHEME_MIME}={DESKTOP_FILE}")
                placed = True
            section = stripped
        elif section == "[Default Applications]" and stripped.split("=", 1)[0].strip() == SCHEME_MIME:
            continue
        out.append(line)
    if not placed:
        if section != "[Default Applications]":
            if out and out[-1].strip():
                out.append("")
            out.append("[Default Applications]")
        out.append(f"{SCHEME_MIME}={DESKTOP_FILE}")
    mimeapps.parent.mkdir(parents=True, exist_ok=True)
    temporary = mimeapps.with_name(mimeapps.name + ".exptable-tmp")
    temporary.write_text("\n".join(out) + "\n", encoding="utf-8")
    os.replace(temporary, mimeapps)


def cmd_install_desktop(args) -> int:
    from exptable_desktop.paths import resource_path
    from exptable_desktop.store.db import resolve_db_url, url_for_display

    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        raise cli.CliError("install-desktop registers exptable:// with Linux (freedesktop.org) desktops only")
    command = launcher_command()
    db = getattr(args, "db", None)
    if db:
        url = resolve_db_url(db)
        if url_for_display(url) != url:
            raise cli.UsageError("the --db URL holds a password, which a .desktop file would keep in plain text; "
                               "give it through ~/.pgpass or PGPASSWORD instead")
        command += ["--db", url]
    data_home = _data_home()
    applications = data_home / "applications"
    applications.mkdir(parents=True, exist_ok=True)
    entry = applications / DESKTOP_FILE
    entry.write_text(desktop_entry(command), encoding="utf-8")
    icons = []
    for size_folder, source in (("256x256", ("app", "exptable.png")), ("scalable", ("app", "exptable.svg"))):
        target = data_home / "icons" / "hicolor" / size_folder / "apps" / f"{ICON_NAME}{Path(source[1]).suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(resource_path(*source), target)
        icons.append(target)
    _set_default_handler(_config_home() / "mimeapps.list")
    # Desktop caches: refreshed when the tools exist; the files above work without them.
    for tool in (["update-desktop-database", str(applications)],
                 ["gtk-update-icon-cache", "-q", "-t", str(data_home / "icons" / "hicolor")]):
        if shutil.which(tool[0]):
            subprocess.run(tool, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    print(f"wrote {entry}")
    for icon in icons:
        print(f"wrote {icon}")
    print(f"exptable:// links now open with: {' '.join(command)} open URL")
    return 0


def add_link_commands(sub, common) -> None:
    """Add ``open`` and ``install-desktop`` to ``exptable``'s sub-command parser."""
    p = sub.add_parser("open", parents=[common], help="open an exptable:// link (in the running window if there is one)")
    p.add_argument("url", metavar="URL", help="exptable://experiment/<id>, exptable://compare?ids=… or exptable://view?…")
    p.set_defaults(func=cmd_open)

    p = sub.add_parser("install-desktop", parents=[common],
                       help="register exptable:// links and the icon with the Linux desktop")
    p.set_defaults(func=cmd_install_desktop)
