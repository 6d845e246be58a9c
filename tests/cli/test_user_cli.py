"""`salesradar user`: passwords off the command line, and access taken back (issue 14).

Real processes on a real SQLite app database; the effects are checked through the app's own
session and token lookups.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from salesradar.app import AppDB
from salesradar.app.users import authenticate, create_session, session_user, user_for_token


def user(*args: str, app_db: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "salesradar", "user", *args, "--app-db", app_db],
        input=stdin, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "160"})


def as_json(*args: str, app_db: str, stdin: str = "") -> Any:
    result = user(*args, "--json", app_db=app_db, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_password_comes_from_stdin_never_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    as_json("add", "dana", "--role", "admin", "--password-stdin", app_db=url,
            stdin="a long passphrase\n")
    with AppDB.open(url) as db:
        assert authenticate(db, "dana", "a long passphrase") is not None
    # no terminal and no --password-stdin: refused with the way out, not a hang
    refused = user("add", "eli", "--role", "admin", app_db=url)
    assert refused.returncode == 2 and "--password-stdin" in refused.stderr
    empty = user("add", "eli", "--role", "admin", "--password-stdin", app_db=url)
    assert empty.returncode == 2 and "standard input is empty" in empty.stderr


def test_disable_revoke_and_end_sessions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    as_json("add", "nir", "--role", "rep", "--rep-id", "R04", "--password-stdin", app_db=url,
            stdin="first password\n")
    expiring = as_json("token", "nir", "--days", "30", app_db=url)["token"]
    other = as_json("token", "nir", app_db=url)["token"]
    listed = as_json("tokens", "nir", app_db=url)
    assert [t["prefix"] for t in listed] == [expiring[:10], other[:10]]
    assert listed[0]["expires_at"] is not None and listed[1]["expires_at"] is None
    assert as_json("revoke-token", "nir", "--prefix", expiring[:10],
                   app_db=url) == {"username": "nir", "revoked": 1}
    with AppDB.open(url) as db:
        assert user_for_token(db, expiring) is None and user_for_token(db, other) is not None
        sid, _ = create_session(db, 1)
    assert len(as_json("sessions", "nir", app_db=url)) == 1
    assert as_json("sessions", "nir", "--end", app_db=url)["ended"] == 1
    with AppDB.open(url) as db:
        assert session_user(db, sid) is None
        sid, _ = create_session(db, 1)
    assert as_json("disable", "nir", app_db=url)["active"] is False
    with AppDB.open(url) as db:
        assert session_user(db, sid) is None and user_for_token(db, other) is None
        assert authenticate(db, "nir", "first password") is None
    listing = user("list", app_db=url)
    assert "disabled" in listing.stdout
    assert as_json("enable", "nir", app_db=url)["active"] is True
    as_json("password", "nir", "--password-stdin", app_db=url, stdin="second password\n")
    with AppDB.open(url) as db:
        assert authenticate(db, "nir", "second password") is not None
    missing = user("disable", "nobody", app_db=url)
    assert missing.returncode == 2 and "no user 'nobody'" in missing.stderr
