"""Web users: argon2 hashes, hashed API tokens, sessions, the failed-login limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from salesradar.app import AppDB
from salesradar.app.users import (
    ApiTokenRow,
    LoginAttemptRow,
    UserRow,
    add_user,
    authenticate,
    clear_failures,
    create_session,
    create_token,
    end_session,
    list_users,
    login_blocked,
    record_failure,
    session_user,
    set_lang,
    user_for_token,
)
from salesradar.errors import UserInputError


@pytest.fixture
def db() -> AppDB:
    return AppDB.open("sqlite://")


def test_passwords_are_stored_as_argon2id_hashes(db: AppDB) -> None:
    add_user(db, "dana", "correct horse", role="rep", rep_id="R13")
    with db.session() as s:
        stored = s.scalars(select(UserRow.password_hash)).one()
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert authenticate(db, "dana", "correct horse") is not None
    assert authenticate(db, "dana", "correct horsE") is None
    assert authenticate(db, "nobody", "correct horse") is None


def test_add_user_updates_an_existing_user(db: AppDB) -> None:
    add_user(db, "dana", "first-password", role="rep", rep_id="R13")
    again = add_user(db, "dana", "second-password", role="manager", team="North", lang="he")
    assert [(u.username, u.role, u.team, u.lang) for u in list_users(db)] == [
        ("dana", "manager", "North", "he")]
    assert again.id == list_users(db)[0].id
    assert authenticate(db, "dana", "first-password") is None
    assert authenticate(db, "dana", "second-password") is not None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"role": "boss"}, "role must be one of"),
    ({"role": "rep"}, "a rep needs --rep-id"),
    ({"role": "manager"}, "a manager needs --team"),
    ({"role": "admin", "lang": "fr"}, "lang must be en or he"),
    ({"role": "admin", "password": "short"}, "at least 8 characters"),
])
def test_user_mistakes_are_explained(db: AppDB, kwargs: dict[str, str], message: str) -> None:
    password = kwargs.pop("password", "long-enough")
    with pytest.raises(UserInputError, match=message):
        add_user(db, "dana", password, **kwargs)  # type: ignore[arg-type]


def test_api_tokens_are_kept_only_as_a_hash(db: AppDB) -> None:
    add_user(db, "dana", "correct horse", role="admin")
    token = create_token(db, "dana")
    with db.session() as s:
        row = s.scalars(select(ApiTokenRow)).one()
        dump = " ".join(str(v) for v in s.execute(text("SELECT * FROM api_tokens")).one())
    assert token not in dump
    assert len(row.token_hash) == 64 and row.prefix == token[:10]
    found = user_for_token(db, token)
    assert found is not None and found.username == "dana"
    assert user_for_token(db, token + "x") is None
    with pytest.raises(UserInputError, match="no user 'ghost'"):
        create_token(db, "ghost")


def test_sessions_carry_a_csrf_token_and_end_on_logout(db: AppDB) -> None:
    user = add_user(db, "dana", "correct horse", role="admin")
    sid, csrf = create_session(db, user.id)
    found = session_user(db, sid)
    assert found is not None and found[0].username == "dana" and found[1] == csrf
    assert session_user(db, sid[:-1] + "x") is None
    end_session(db, sid)
    assert session_user(db, sid) is None


def test_expired_sessions_are_refused(db: AppDB) -> None:
    user = add_user(db, "dana", "correct horse", role="admin")
    sid, _ = create_session(db, user.id)
    with db.session() as s:
        from salesradar.app.users import SessionRow

        s.execute(update(SessionRow).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert session_user(db, sid) is None


def test_five_failures_per_username_or_per_address_block_the_login(db: AppDB) -> None:
    for _ in range(4):
        record_failure(db, "dana", "10.0.0.1")
    assert not login_blocked(db, "dana", "10.0.0.9")  # 4 < 5
    record_failure(db, "dana", "10.0.0.2")
    assert login_blocked(db, "dana", "10.0.0.9")  # 5 failures for the name, any address
    assert not login_blocked(db, "eli", "10.0.0.3")  # another name from a clean address
    assert login_blocked(db, "eli", "10.0.0.1") is False  # 4 from .1: still under the limit
    record_failure(db, "eli", "10.0.0.1")
    assert login_blocked(db, "zed", "10.0.0.1")  # 5 from that address, whatever the name
    clear_failures(db, "dana")
    assert not login_blocked(db, "dana", "10.0.0.9")


def test_failures_older_than_the_window_do_not_count(db: AppDB) -> None:
    for _ in range(5):
        record_failure(db, "dana", "10.0.0.1")
    with db.session() as s:
        s.execute(update(LoginAttemptRow).values(at=datetime.now(UTC) - timedelta(minutes=6)))
    assert not login_blocked(db, "dana", "10.0.0.1")


def test_language_is_a_user_setting(db: AppDB) -> None:
    user = add_user(db, "dana", "correct horse", role="admin")
    set_lang(db, user.id, "he")
    assert list_users(db)[0].lang == "he"
    with pytest.raises(UserInputError):
        set_lang(db, user.id, "xx")
