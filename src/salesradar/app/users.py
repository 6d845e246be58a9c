"""Users, roles, API tokens, sessions and login attempts of the web app.

Passwords are stored as argon2id hashes (argon2-cffi's defaults); API tokens and session ids are
random 32-byte secrets of which only the SHA-256 is stored, so a copy of the database opens
nothing. A session row holds its CSRF token (the synchronizer token every form post must echo)
and is deleted on logout. Failed logins are rows too, so the rate limit holds across restarts
and across worker processes.

>>> from salesradar.app import AppDB
>>> db = AppDB.open("sqlite://")
>>> add_user(db, "dana", "correct horse", role="rep", rep_id="R13").role
'rep'
>>> authenticate(db, "dana", "correct horse").username
'dana'
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from salesradar.app.models import Base
from salesradar.errors import UserInputError
from salesradar.lang import parse_lang

ROLES = ("admin", "manager", "rep")
SESSION_DAYS = 14
TOKEN_TOUCH = timedelta(minutes=5)
_HASHER = PasswordHasher()
# verified when the username is unknown, so a wrong name costs as long as a wrong password


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown users (so their login takes as long); made on first
    use, not at import, since argon2 costs 64 MiB and tens of milliseconds."""
    return _HASHER.hash("salesradar-no-such-user")


class UserRow(Base):
    """A person who logs in: role admin, manager (their team) or rep (their own rep id)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    rep_id: Mapped[str | None] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(100))
    lang: Mapped[str] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class ApiTokenRow(Base):
    """An API token: only its SHA-256 is kept; ``prefix`` lets people tell tokens apart."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class SessionRow(Base):
    """A login session: the cookie carries the id (signed), the row its CSRF token and expiry."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class LoginAttemptRow(Base):
    """One failed login, by username and client address (the rate limit counts these)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime]


@dataclass(frozen=True)
class User:
    """A user as the app sees it (never the password hash)."""

    id: int
    username: str
    role: str
    rep_id: str | None
    team: str | None
    lang: str

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(row.id, row.username, row.role, row.rep_id, row.team, row.lang)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def add_user(
    db: Any, username: str, password: str, *, role: str, rep_id: str | None = None,
    team: str | None = None, lang: str = "en",
) -> User:
    """Create the user, or update role, password and settings of an existing one."""
    if not username.strip() or len(username) > 100:
        raise UserInputError("the username must be 1 to 100 characters")
    if role not in ROLES:
        raise UserInputError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    parse_lang(lang, "lang")
    if len(password) < 8:
        raise UserInputError("the password must have at least 8 characters")
    if role == "rep" and not rep_id:
        raise UserInputError("a rep needs --rep-id (the rep_id their customers are owned by)")
    if role == "manager" and not (team or rep_id):
        raise UserInputError("a manager needs --team or --rep-id (whose reps they manage)")
    with db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            row = UserRow(username=username, created_at=_now(), active=True)
            s.add(row)
        row.password_hash = _HASHER.hash(password)
        row.role, row.rep_id, row.team, row.lang = role, rep_id, team, lang
        s.flush()
        return User.of(row)


def list_users(db: Any) -> list[User]:
    with db.session() as s:
        return [User.of(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]


def set_lang(db: Any, user_id: int, lang: str) -> None:
    parse_lang(lang, "lang")
    with db.session() as s:
        row = s.get(UserRow, user_id)
        if row is not None:
            row.lang = lang


def authenticate(db: Any, username: str, password: str) -> User | None:
    """The user if the password is right, else None (same cost for unknown names)."""
    with db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
        try:
            _HASHER.verify(row.password_hash if row and row.active else _dummy_hash(), password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        if _HASHER.check_needs_rehash(row.password_hash):
            row.password_hash = _HASHER.hash(password)
        return User.of(row)


# -- API tokens ------------------------------------------------------------------------------
def create_token(db: Any, username: str) -> str:
    """A new API token for ``username``; the token itself is returned once and never stored."""
    token = "sr_" + secrets.token_urlsafe(32)
    with db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            raise UserInputError(f"no user {username!r}: create it with salesradar user add")
        s.add(ApiTokenRow(user_id=row.id, token_hash=_digest(token), prefix=token[:10],
                          created_at=_now()))
    return token


def user_for_token(db: Any, token: str) -> User | None:
    with db.session() as s:
        tok = s.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == _digest(token))
                        ).first()
        if tok is None:
            return None
        now = _now()
        # written at most every few minutes: a write per API call would serialize the callers
        if tok.last_used_at is None or now - tok.last_used_at > TOKEN_TOUCH:
            tok.last_used_at = now
        row = s.get(UserRow, tok.user_id)
        return User.of(row) if row is not None and row.active else None


# -- sessions --------------------------------------------------------------------------------
def create_session(db: Any, user_id: int) -> tuple[str, str]:
    """A new session: (session id for the cookie, CSRF token for the forms)."""
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    with db.session() as s:
        s.execute(delete(SessionRow).where(SessionRow.expires_at < now))
        s.add(SessionRow(id_hash=_digest(session_id), user_id=user_id, csrf_token=csrf,
                         created_at=now, expires_at=now + timedelta(days=SESSION_DAYS)))
    return session_id, csrf


def session_user(db: Any, session_id: str) -> tuple[User, str] | None:
    """The user and CSRF token of a live session, else None."""
    with db.session() as s:
        row = s.get(SessionRow, _digest(session_id))
        if row is None or row.expires_at < _now():
            return None
        user = s.get(UserRow, row.user_id)
        if user is None or not user.active:
            return None
        return User.of(user), row.csrf_token


def end_session(db: Any, session_id: str) -> None:
    with db.session() as s:
        s.execute(delete(SessionRow).where(SessionRow.id_hash == _digest(session_id)))


# -- login rate limit ------------------------------------------------------------------------
def record_failure(db: Any, username: str, ip: str) -> None:
    with db.session() as s:
        s.add(LoginAttemptRow(username=username[:100], ip=ip[:64], at=_now()))


def clear_failures(db: Any, username: str) -> None:
    with db.session() as s:
        s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.username == username))


def login_blocked(db: Any, username: str, ip: str, *, limit: int = 5,
                  window: timedelta = timedelta(minutes=5)) -> bool:
    """Whether ``limit`` failures happened for this username, or from this address, within
    ``window`` (the login is then refused without checking the password)."""
    since = _now() - window
    with db.session() as s:
        s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.at < since - window))
        by_name = s.scalar(select(func.count()).select_from(LoginAttemptRow).where(
            LoginAttemptRow.username == username, LoginAttemptRow.at >= since)) or 0
        by_ip = s.scalar(select(func.count()).select_from(LoginAttemptRow).where(
            LoginAttemptRow.ip == ip, LoginAttemptRow.at >= since)) or 0
    return by_name >= limit or by_ip >= limit
