"""Repository URLs as ExpTable keeps them: without the user name and token a clone URL may carry.

``git clone https://user:token@host/org/repo.git`` leaves the token in
``remote.origin.url``; an experiment shows its repository to anyone who opens it,
and exports and clones copy it on, so the URL is cleaned where it is written and
again where it is read (rows stored before the cleaning existed).
"""
from __future__ import annotations

import re

from exptable_desktop.store.text import LongTextField

_WITH_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<authority>[^/?#]*)(?P<rest>.*)$", re.S)
# git's scp-like form "user@host:path" has no password field, but "user:token@host:path" still parses.
_SCP_LIKE = re.compile(r"^(?P<user>[^@/:]+):[^@/]*@(?P<rest>[^@/]+:.*)$", re.S)
# ssh authenticates the user with a key: the name (usually "git") is needed and is no secret.
_KEEPS_USER = ("ssh://", "git+ssh://", "ssh+git://")


def without_credentials(url: str | None) -> str | None:
    """``url`` with its password and, except for ssh, its user name removed; host and path are kept."""
    if not url or "@" not in url:
        return url
    match = _WITH_SCHEME.match(url)
    if match is None:
        scp = _SCP_LIKE.match(url)
        return f"{scp['user']}@{scp['rest']}" if scp else url
    userinfo, at, host = match["authority"].rpartition("@")
    if not at:
        return url
    user = userinfo.split(":", 1)[0]
    keep = f"{user}@" if user and match["scheme"].lower() in _KEEPS_USER else ""
    return f"{match['scheme']}{keep}{host}{match['rest']}"


class RepositoryUrlField(LongTextField):
    """A text column that never stores, nor hands back, credentials inside a URL."""

    def db_value(self, value):
        return super().db_value(without_credentials(value))

    def python_value(self, value):
        return without_credentials(super().python_value(value))
