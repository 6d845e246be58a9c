"""Web users: argon2 hashes, hashed API tokens, sessions, the failed-login back-off, taking
access back (disable, revoke, expiry, password change), bounded password checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from salesradar.app import AppDB
from salesradar.app.users import (
    ApiTokenRow,
    LoginAttemptRow,
    LoginBusy,
    UserRow,
    add_user,
    authenticate,
    clear_failures,
    create_session,
    create_token,
    end_session,
    end_sessions,
    list_sessions,
    list_tokens,
    list_users,
    login_wait,
    record_failure,
    revoke_tokens,
    session_user,
    set_active,
    set_lang,
    set_password,
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


def test_the_back_off_is_per_user_and_address(db: AppDB) -> None:
    now = datetime.now(UTC)
    for _ in range(4):
        record_failure(db, "dana", "10.0.0.1", at=now)
    assert login_wait(db, "dana", "10.0.0.1", now=now) == 0  # 4 < 5
    record_failure(db, "dana", "10.0.0.1", at=now)
    # 5 failures of dana from .1: that pair waits a minute after the last failure ...
    assert login_wait(db, "dana", "10.0.0.1", now=now) == 60
    assert login_wait(db, "dana", "10.0.0.1", now=now + timedelta(seconds=45)) == 15
    # ... but dana from another address, and others from .1, check their passwords at once
    assert login_wait(db, "dana", "10.0.0.9", now=now) == 0
    assert login_wait(db, "eli", "10.0.0.1", now=now) == 0
    # each further failure doubles the wait: 2 minutes after the 6th, 4 after the 7th
    record_failure(db, "dana", "10.0.0.1", at=now)
    assert login_wait(db, "dana", "10.0.0.1", now=now) == 120
    record_failure(db, "dana", "10.0.0.1", at=now)
    assert login_wait(db, "dana", "10.0.0.1", now=now) == 240
    assert login_wait(db, "dana", "10.0.0.1", now=now + timedelta(minutes=5)) == 0
    clear_failures(db, "dana", "10.0.0.1")
    assert login_wait(db, "dana", "10.0.0.1", now=now) == 0


def test_the_wait_never_exceeds_the_longest(db: AppDB) -> None:
    now = datetime.now(UTC)
    for _ in range(20):
        record_failure(db, "dana", "10.0.0.1", at=now)
    assert login_wait(db, "dana", "10.0.0.1", now=now) == 15 * 60


def test_one_address_guessing_many_names_waits(db: AppDB) -> None:
    now = datetime.now(UTC)
    for i in range(50):
        record_failure(db, f"user{i}", "10.0.0.1", at=now - timedelta(minutes=5))
    # until the oldest failure leaves the 15-minute window: 10 minutes
    assert login_wait(db, "someone", "10.0.0.1", now=now) == 10 * 60
    assert login_wait(db, "someone", "10.0.0.2", now=now) == 0


def test_failures_older_than_the_window_do_not_count(db: AppDB) -> None:
    for _ in range(5):
        record_failure(db, "dana", "10.0.0.1")
    with db.session() as s:
        s.execute(update(LoginAttemptRow).values(at=datetime.now(UTC) - timedelta(minutes=16)))
    assert login_wait(db, "dana", "10.0.0.1") == 0


def test_disabling_ends_sessions_and_tokens_at_once(db: AppDB) -> None:
    user = add_user(db, "dana", "correct horse", role="admin")
    sid, _ = create_session(db, user.id)
    token = create_token(db, "dana")
    set_active(db, "dana", False)
    assert session_user(db, sid) is None and user_for_token(db, token) is None
    assert authenticate(db, "dana", "correct horse") is None
    with pytest.raises(UserInputError, match="disabled"):
        create_token(db, "dana")
    set_active(db, "dana", True)  # enabling opens nothing old again
    assert session_user(db, sid) is None and user_for_token(db, token) is None
    assert authenticate(db, "dana", "correct horse") is not None


def test_a_new_password_ends_sessions_and_tokens(db: AppDB) -> None:
    user = add_user(db, "dana", "correct horse", role="admin")
    sid, _ = create_session(db, user.id)
    token = create_token(db, "dana")
    set_password(db, "dana", "battery staple")
    assert session_user(db, sid) is None and user_for_token(db, token) is None
    sid, _ = create_session(db, user.id)
    token = create_token(db, "dana")
    add_user(db, "dana", "another staple", role="admin")  # user add sets the password too
    assert session_user(db, sid) is None and user_for_token(db, token) is None


def test_tokens_expire_and_are_revoked_alone(db: AppDB) -> None:
    add_user(db, "dana", "correct horse", role="admin")
    short, kept = create_token(db, "dana", days=1), create_token(db, "dana")
    assert user_for_token(db, short) is not None
    with db.session() as s:
        s.execute(update(ApiTokenRow).where(ApiTokenRow.prefix == short[:10]).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert user_for_token(db, short) is None and user_for_token(db, kept) is not None
    assert [t["prefix"] for t in list_tokens(db, "dana")] == [short[:10], kept[:10]]
    assert revoke_tokens(db, "dana", kept[:10]) == 1
    assert user_for_token(db, kept) is None and len(list_tokens(db, "dana")) == 1
    with pytest.raises(UserInputError, match="1 to 3650"):
        create_token(db, "dana", days=0)


def test_sessions_are_listed_and_ended_everywhere(db: AppDB) -> None:
    user = add_user(db, "dana", "correct horse", role="admin")
    first, _ = create_session(db, user.id)
    second, _ = create_session(db, user.id)
    assert len(list_sessions(db, "dana")) == 2
    assert end_sessions(db, "dana") == 2
    assert session_user(db, first) is None and session_user(db, second) is None
    with pytest.raises(UserInputError, match="no user"):
        end_sessions(db, "nobody")


def test_password_checks_are_bounded(db: AppDB) -> None:
    """With every slot taken (a burst of logins), one more check waits, then gives up
    instead of computing another 64 MiB hash."""
    from salesradar.app import users

    add_user(db, "dana", "correct horse", role="admin")
    taken = [users._VERIFYING.acquire(timeout=5) for _ in range(users.VERIFY_SLOTS)]
    try:
        assert all(taken)
        with pytest.raises(LoginBusy):
            authenticate(db, "dana", "correct horse", wait=0)
    finally:
        for _ in taken:
            users._VERIFYING.release()
    assert authenticate(db, "dana", "correct horse", wait=0) is not None


def test_language_is_a_user_setting(db: AppDB) -> None:
    user = add_user(db, "dana", "correct horse", role="admin")
    set_lang(db, user.id, "he")
    assert list_users(db)[0].lang == "he"
    with pytest.raises(UserInputError):
        set_lang(db, user.id, "xx")
