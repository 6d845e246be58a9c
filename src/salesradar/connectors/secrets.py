"""Where a connection's credential comes from: an environment variable or a private file.

The workspace stores only *where* to find the credential (``env:HUBSPOT_TOKEN`` or
``file:/etc/salesradar/priority.secret``), never the credential itself. A secrets file must be
readable by its owner only (``chmod 600``): a file that group or others may read is refused,
the way ``ssh`` refuses a private key that others can read.

What the credential holds depends on the system:

- HubSpot: the private app's access token (sent as ``Authorization: Bearer``);
- Priority: ``USER:PASSWORD`` for Basic authentication, or ``TOKEN:PAT`` for a personal access
  token (Priority's convention: the token as user name, the word PAT as password);
- SAP Business One: ``USER:PASSWORD`` of the Service Layer login (the company database is the
  connection's ``--company``).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from salesradar.connectors.base import ConnectorError

CredentialKind = Literal["env", "file"]


@dataclass(frozen=True)
class CredentialSource:
    """Where to read a credential: an environment variable's name or a file's path."""

    kind: CredentialKind
    ref: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.ref}"

    @classmethod
    def parse(cls, text: str) -> CredentialSource:
        kind, _, ref = text.partition(":")
        if kind not in ("env", "file") or not ref:
            raise ConnectorError(f"a credential source is env:VARIABLE or file:PATH, not {text!r}")
        return cls("env" if kind == "env" else "file", ref)


def read_secret(connection: str, source: CredentialSource) -> str:
    """The credential, read now (never cached, never written anywhere)."""
    if source.kind == "env":
        value = os.environ.get(source.ref, "").strip()
        if not value:
            raise ConnectorError(
                f"connection {connection!r}: the environment variable {source.ref} is empty or "
                f"not set; export it with the credential before the sync")
        return value
    return _read_file(connection, Path(source.ref))


def check_file(connection: str, path: Path) -> None:
    """Refuse a missing secrets file or one that anyone but its owner may read or write."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConnectorError(f"connection {connection!r}: the secrets file {path} does not "
                             "exist") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConnectorError(f"connection {connection!r}: the secrets file {path} is not a "
                             "regular file")
    loose = info.st_mode & 0o077
    if loose:
        raise ConnectorError(
            f"connection {connection!r}: the secrets file {path} may be read by others (mode "
            f"{stat.S_IMODE(info.st_mode):04o}); make it private with: chmod 600 {path}")


def _read_file(connection: str, path: Path) -> str:
    check_file(connection, path)
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ConnectorError(f"connection {connection!r}: the secrets file {path} is empty")
    return value


def split_user(connection: str, secret: str, what: str) -> tuple[str, str]:
    """``USER:PASSWORD`` as its two parts (the password may itself hold colons)."""
    user, sep, password = secret.partition(":")
    if not sep or not user or not password:
        raise ConnectorError(f"connection {connection!r}: the credential must be "
                             f"USER:PASSWORD for {what} (it has no colon or an empty part)")
    return user, password
