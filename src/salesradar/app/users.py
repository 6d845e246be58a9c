"""Users, roles, API tokens, sessions and login attempts of the web app.

Passwords are stored as argon2id hashes (argon2-cffi's defaults); API tokens and session ids are
random 32-byte secrets of which only the SHA-256 is stored, so a copy of the database opens
nothing. A session row holds its CSRF token (the synchronizer token every form post must echo)
and is deleted on logout. Failed logins are rows too, so the rate limit holds across restarts
and across worker processes.

Access can be taken back: disabling a user, or setting their password, ends every session and
API token they have (a request made with them answers 401 at once); a token may carry an expiry
and can be revoked alone. The login limit counts failures per user *and address*, so an attacker
who keeps failing slows only themselves, never the real user logging in from elsewhere; password
checks run at most :data:`VERIFY_SLOTS` at a time (argon2 takes 64 MiB each).

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
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from salesradar.app.models import Base
from salesradar.errors import SalesradarError, UserInputError
from salesradar.lang import parse_lang

ROLES = ("admin", "manager", "rep")
SESSION_DAYS = 14
TOKEN_TOUCH = timedelta(minutes=5)
_HASHER = PasswordHasher()
# at most this many argon2 computations at once (64 MiB each): a burst of anonymous logins
# queues here instead of taking the server's memory; a login waits at most VERIFY_WAIT seconds
VERIFY_SLOTS = 2
VERIFY_WAIT = 10.0
_VERIFYING = threading.BoundedSemaphore(VERIFY_SLOTS)


class LoginBusy(SalesradarError):
    """Too many password checks are running; the login should be tried again shortly."""


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
    expires_at: Mapped[datetime | None]  # None: until revoked


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
    active: bool = True

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(row.id, row.username, row.role, row.rep_id, row.team, row.lang,
                   bool(row.active))

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
    _check_profile(role, rep_id, team, lang)
    if len(password) < 8:
        raise UserInputError("the password must have at least 8 characters")
    password_hash = _hash(password)
    with db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            row = UserRow(username=username, created_at=_now(), active=True)
            s.add(row)
        else:  # a new password ends what the old one opened
            _end_access(s, row.id)
        row.password_hash = password_hash
        row.role, row.rep_id, row.team, row.lang = role, rep_id, team, lang
        s.flush()
        return User.of(row)


def _check_profile(role: str, rep_id: str | None, team: str | None, lang: str) -> None:
    """The checks of a user's role, rep id, team and language (add_user and set_profile)."""
    if role not in ROLES:
        raise UserInputError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    parse_lang(lang, "lang")
    if role == "rep" and not rep_id:
        raise UserInputError("a rep needs --rep-id (the rep_id their customers are owned by)")
    if role == "manager" and not (team or rep_id):
        raise UserInputError("a manager needs --team or --rep-id (whose reps they manage)")


def set_profile(db: Any, username: str, *, role: str, rep_id: str | None = None,
                team: str | None = None, lang: str = "en") -> User:
    """Change ``username``'s role, rep id, team and language (the checks of :func:`add_user`);
    the password, sessions and tokens stay: the new scope applies from their next request."""
    _check_profile(role, rep_id, team, lang)
    with db.session() as s:
        row = _row(s, username)
        row.role, row.rep_id, row.team, row.lang = role, rep_id, team, lang
        s.flush()
        return User.of(row)


def set_password(db: Any, username: str, password: str) -> User:
    """Set ``username``'s password; every session and API token of theirs ends."""
    if len(password) < 8:
        raise UserInputError("the password must have at least 8 characters")
    password_hash = _hash(password)
    with db.session() as s:
        row = _row(s, username)
        row.password_hash = password_hash
        _end_access(s, row.id)
        return User.of(row)


def set_active(db: Any, username: str, active: bool) -> User:
    """Enable or disable ``username``; disabling ends every session and API token of theirs
    (enabling opens none again: they log in and get new tokens)."""
    with db.session() as s:
        row = _row(s, username)
        row.active = active
        if not active:
            _end_access(s, row.id)
        return User.of(row)


def _row(s: Any, username: str) -> UserRow:
    row: UserRow | None = s.scalars(select(UserRow).where(UserRow.username == username)).first()
    if row is None:
        raise UserInputError(f"no user {username!r}: salesradar user list shows them")
    return row


def _end_access(s: Any, user_id: int) -> None:
    s.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
    s.execute(delete(ApiTokenRow).where(ApiTokenRow.user_id == user_id))


def _hash(password: str) -> str:
    with _verify_slot(VERIFY_WAIT):
        return _HASHER.hash(password)


@contextmanager
def _verify_slot(wait: float) -> Iterator[None]:
    """Hold one of the :data:`VERIFY_SLOTS` for an argon2 computation, or raise
    :class:`LoginBusy` after ``wait`` seconds."""
    if not _VERIFYING.acquire(timeout=wait):
        raise LoginBusy("many logins are being checked right now; try again in a few seconds")
    try:
        yield
    finally:
        _VERIFYING.release()


def list_users(db: Any, *, active_only: bool = False) -> list[User]:
    query = select(UserRow).order_by(UserRow.username)
    if active_only:
        query = query.where(UserRow.active.is_(True))
    with db.session() as s:
        return [User.of(r) for r in s.scalars(query)]


def set_lang(db: Any, user_id: int, lang: str) -> None:
    parse_lang(lang, "lang")
    with db.session() as s:
        row = s.get(UserRow, user_id)
        if row is not None:
            row.lang = lang


def authenticate(db: Any, username: str, password: str, *,
                 wait: float | None = None) -> User | None:
    """The user if the password is right, else None (same cost for unknown names). At most
    :data:`VERIFY_SLOTS` checks run at once; :class:`LoginBusy` when no slot frees within
    ``wait`` seconds (:data:`VERIFY_WAIT` by default)."""
    with db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
        with _verify_slot(VERIFY_WAIT if wait is None else wait):
            try:
                _HASHER.verify(row.password_hash if row and row.active else _dummy_hash(),
                               password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
            if row is None or not row.active:
                return None
            if _HASHER.check_needs_rehash(row.password_hash):
                row.password_hash = _HASHER.hash(password)
        return User.of(row)


# -- API tokens ------------------------------------------------------------------------------
def create_token(db: Any, username: str, *, days: int | None = None) -> str:
    """A new API token for ``username``, valid ``days`` days (None: until revoked); the token
    itself is returned once and never stored."""
    if days is not None and not 1 <= days <= 3650:
        raise UserInputError(f"a token lasts 1 to 3650 days, not {days}")
    token = "sr_" + secrets.token_urlsafe(32)
    now = _now()
    with db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.username == username)).first()
        if row is None:
            raise UserInputError(f"no user {username!r}: create it with salesradar user add")
        if not row.active:
            raise UserInputError(f"user {username!r} is disabled: salesradar user enable "
                                 f"{username} first")
        s.add(ApiTokenRow(user_id=row.id, token_hash=_digest(token), prefix=token[:10],
                          created_at=now,
                          expires_at=None if days is None else now + timedelta(days=days)))
    return token


def list_tokens(db: Any, username: str) -> list[dict[str, Any]]:
    """``username``'s API tokens: prefix, created, last used, expiry (never the token)."""
    with db.session() as s:
        row = _row(s, username)
        found = s.scalars(select(ApiTokenRow).where(ApiTokenRow.user_id == row.id)
                          .order_by(ApiTokenRow.created_at, ApiTokenRow.id))
        return [{"prefix": t.prefix, "created_at": t.created_at.isoformat(),
                 "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                 "expires_at": t.expires_at.isoformat() if t.expires_at else None}
                for t in found]


def revoke_tokens(db: Any, username: str, prefix: str | None = None) -> int:
    """Delete ``username``'s API tokens (those starting with ``prefix`` when given); returns
    how many went."""
    with db.session() as s:
        row = _row(s, username)
        query = delete(ApiTokenRow).where(ApiTokenRow.user_id == row.id)
        if prefix:
            query = query.where(ApiTokenRow.prefix.startswith(prefix[:10], autoescape=True))
        return int(s.execute(query).rowcount or 0)


def user_for_token(db: Any, token: str) -> User | None:
    with db.session() as s:
        tok = s.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == _digest(token))
                        ).first()
        now = _now()
        if tok is None or (tok.expires_at is not None and tok.expires_at <= now):
            return None
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


def list_sessions(db: Any, username: str) -> list[dict[str, Any]]:
    """``username``'s live sessions: when each began and when it expires."""
    with db.session() as s:
        row = _row(s, username)
        found = s.scalars(select(SessionRow).where(SessionRow.user_id == row.id,
                                                   SessionRow.expires_at >= _now())
                          .order_by(SessionRow.created_at))
        return [{"created_at": r.created_at.isoformat(), "expires_at": r.expires_at.isoformat()}
                for r in found]


def end_sessions(db: Any, username: str) -> int:
    """End every session of ``username`` (logged out everywhere); returns how many ended."""
    with db.session() as s:
        row = _row(s, username)
        return int(s.execute(delete(SessionRow).where(SessionRow.user_id == row.id)).rowcount
                   or 0)


# -- login rate limit ------------------------------------------------------------------------
PAIR_LIMIT = 5  # failures of one username from one address before the back-off starts
ADDRESS_LIMIT = 50  # failures from one address, whatever the names (guessing across users)
WINDOW = timedelta(minutes=15)  # failures older than this are forgotten
FIRST_WAIT = timedelta(minutes=1)  # then doubled with every further failure
LONGEST_WAIT = timedelta(minutes=15)


def record_failure(db: Any, username: str, ip: str, *, at: datetime | None = None) -> None:
    """Count a failed login of ``username`` from ``ip`` (now, or ``at``)."""
    with db.session() as s:
        s.add(LoginAttemptRow(username=username[:100], ip=ip[:64], at=at or _now()))


def clear_failures(db: Any, username: str, ip: str) -> None:
    """Forget the failures of ``username`` from ``ip`` (after it logged in there); failures
    from other addresses stay counted."""
    with db.session() as s:
        s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.username == username[:100],
                                                LoginAttemptRow.ip == ip[:64]))


def login_wait(db: Any, username: str, ip: str, *, now: datetime | None = None) -> int:
    """Seconds the login of ``username`` from ``ip`` must wait before its password is checked
    (0: check it now).

    Counted per user *and* address within :data:`WINDOW`: from the :data:`PAIR_LIMIT`-th failure
    on, :data:`FIRST_WAIT` after the last failure, doubled with each further one, at most
    :data:`LONGEST_WAIT`. An address with :data:`ADDRESS_LIMIT` failures (any names) waits
    until the oldest leaves the window. The username alone never blocks: someone failing from
    one address does not lock the user out from theirs.
    """
    now = now or _now()
    since = now - WINDOW
    name, address = username[:100], ip[:64]
    with db.session() as s:
        s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.at < since))
        pair, last = s.execute(select(func.count(), func.max(LoginAttemptRow.at)).where(
            LoginAttemptRow.username == name, LoginAttemptRow.ip == address,
            LoginAttemptRow.at >= since)).one()
        by_ip, oldest = s.execute(select(func.count(), func.min(LoginAttemptRow.at)).where(
            LoginAttemptRow.ip == address, LoginAttemptRow.at >= since)).one()
    until = now
    if pair >= PAIR_LIMIT and last is not None:
        until = max(until, last + min(FIRST_WAIT * 2 ** (pair - PAIR_LIMIT), LONGEST_WAIT))
    if by_ip >= ADDRESS_LIMIT and oldest is not None:
        until = max(until, oldest + WINDOW)
    return max(0, int((until - now).total_seconds() + 0.999))
