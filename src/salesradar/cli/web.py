"""Commands of the web app: serve, and user add | list | password | token | tokens |
revoke-token | sessions | disable | enable."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from salesradar.app.audit import record
from salesradar.cli import output
from salesradar.cli.options import (
    AppDbOption,
    JsonOption,
    WorkspaceOption,
    cli_actor,
    open_app_db,
    parse_lang,
)
from salesradar.config import workspace_path
from salesradar.errors import UserInputError

DEMO_PASSWORD = "salesradar-demo"


def demo_logins(db: Any, store: Any) -> list[dict[str, Any]]:
    """Create (or reset) the demo's users: an admin; a manager of the team whose rep has the
    most open insights; that rep. Returns username, password, role, rep and team of each."""
    from salesradar.app.users import add_user

    open_ = store.list_insights(status=["new", "sent", "acknowledged"])
    counts = Counter(i.owner_rep_id for i in open_ if i.owner_rep_id)
    rep = counts.most_common(1)[0][0] if counts else None
    mine = next((i for i in open_ if i.owner_rep_id == rep), None)
    team = mine.team if mine else None
    manager = mine.manager_id if mine else None
    users = [add_user(db, "admin", DEMO_PASSWORD, role="admin")]
    if team or manager:
        users.append(add_user(db, "manager", DEMO_PASSWORD, role="manager", team=team,
                              rep_id=manager))
    if rep:
        users.append(add_user(db, "rep", DEMO_PASSWORD, role="rep", rep_id=rep, team=team,
                              lang="he"))
    return [{**u.to_dict(), "password": DEMO_PASSWORD} for u in users]


def server_config(app: Any, host: str, port: int, *,
                  forwarded_allow_ips: str | None = None) -> Any:
    """uvicorn's configuration for ``app``: proxy headers (X-Forwarded-For, -Proto) are
    believed only from the addresses in ``forwarded_allow_ips`` (comma-separated); without it
    from nobody, so a client cannot pick the address the login limit counts."""
    import uvicorn

    trusted = (forwarded_allow_ips or "").strip()
    return uvicorn.Config(app, host=host, port=port, log_level="warning",
                          proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None)


def serve_workspace(target: Path, app_db: str | None, host: str, port: int, *,
                    https: bool = False, forwarded_allow_ips: str | None = None) -> None:
    """Run the web app on ``target`` with uvicorn until interrupted."""
    import uvicorn

    from salesradar.api import create_app

    with open_app_db(target, app_db) as db:
        app = create_app(target, db, secure_cookies=https, warm=True)
        token = app.state.sr.setup_token
        if token:  # first run: only who reads this can create the administrator
            output.console.print(
                f"no user yet: open http://{host}:{port}/setup?token={token} to create the "
                "administrator (or: salesradar user add NAME --role admin)", highlight=False)
        uvicorn.Server(server_config(app, host, port,
                                     forwarded_allow_ips=forwarded_allow_ips)).run()


def read_password(password: str | None, from_stdin: bool) -> str:
    """The password: ``--password``, else one line of standard input (``--password-stdin``),
    else asked twice without echo."""
    import sys

    if password is not None and from_stdin:
        raise UserInputError("give the password with --password or --password-stdin, not both")
    if password is not None:
        return password
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UserInputError("--password-stdin: standard input is empty; pipe the password "
                                 "in, e.g. printf '%s\\n' \"$PASSWORD\" | salesradar user add ...")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserInputError("no password: pass --password-stdin and pipe it in, or run "
                             "the command in a terminal to be asked for it")
    entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return entered


def web_commands(app: typer.Typer) -> None:
    """Register this module's commands on the main app."""
    user_app = typer.Typer(help="Users of the web app: add, list, password, token, tokens, "
                           "revoke-token, sessions, disable, enable.", no_args_is_help=True)
    app.add_typer(user_app, name="user")

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
        https: Annotated[bool, typer.Option("--https", help="Served behind HTTPS: mark the "
                         "session cookie Secure.")] = False,
        forwarded_allow_ips: Annotated[str | None, typer.Option(
            "--forwarded-allow-ips", help="Addresses of the reverse proxies whose "
            "X-Forwarded-For and X-Forwarded-Proto to believe, comma-separated (e.g. "
            "127.0.0.1 for a proxy on this machine). Default: none, the client's own address "
            "counts.")] = None,
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Serve the dashboard, the pages and the REST API (/docs) with uvicorn.

        The workspace is opened read-only per request and never held, so `salesradar run` can
        refresh it while the app is up (see docs/web.md).
        """
        target = workspace_path(workspace)
        fresh = not target.exists()
        if fresh:  # a new company: its data come in through the browser (Administration)
            from salesradar.workspace import Workspace

            if not target.parent.is_dir():
                raise UserInputError(f"no folder {target.parent} for the workspace {target.name}")
            Workspace.open(target).close()
        url = f"http://{host}:{port}/"
        output.emit({"url": url, "workspace": str(target)}, as_json, lambda: output.console.print(
            f"serving {'a new, empty workspace ' if fresh else ''}{target} on {url} (API docs: "
            f"{url}docs); Ctrl+C stops", highlight=False))
        serve_workspace(target, app_db, host, port, https=https,
                        forwarded_allow_ips=forwarded_allow_ips)

    @user_app.command("add")
    def user_add(
        username: Annotated[str, typer.Argument(metavar="USERNAME")],
        role: Annotated[str, typer.Option(help="admin, manager or rep.")],
        password: Annotated[str | None, typer.Option(help="At least 8 characters. Seen by "
                            "other users of the machine and kept in the shell history: prefer "
                            "--password-stdin or the prompt.")] = None,
        password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the "
                                  "password from the first line of standard input.")] = False,
        rep_id: Annotated[str | None, typer.Option("--rep-id", help="The rep id this user is "
                          "(a rep sees only their own customers).")] = None,
        team: Annotated[str | None, typer.Option(help="A manager's team (reps.team).")] = None,
        lang: Annotated[str, typer.Option(help="The user's language (pages and messages): "
                        "en or he.", callback=parse_lang)] = "en",
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Create a user, or update an existing one (role, password, rep, team, language).

        Without --password or --password-stdin the password is asked for. Setting the password
        of an existing user ends their sessions and API tokens.
        """
        from salesradar.app.users import add_user

        secret = read_password(password, password_stdin)
        with open_app_db(workspace, app_db) as db:
            user = add_user(db, username, secret, role=role, rep_id=rep_id, team=team,
                            lang=lang)
            record(db, cli_actor(), "user.add", user.username,
                   {"role": role, "rep_id": rep_id, "team": team, "lang": lang})
        output.emit(user.to_dict(), as_json, lambda: output.console.print(
            f"user {user.username} ({user.role}) saved", highlight=False))

    @user_app.command("list")
    def user_list(workspace: WorkspaceOption = None, app_db: AppDbOption = None,
                  as_json: JsonOption = False) -> None:
        """The users: name, role, rep id, team, language, active."""
        from salesradar.app.users import list_users

        with open_app_db(workspace, app_db) as db:
            rows = [u.to_dict() for u in list_users(db)]
        output.emit(rows, as_json, lambda: output.console.print(output.table(
            "users", ["username", "role", "rep_id", "team", "lang", "active"],
            [(r["username"], r["role"], r["rep_id"], r["team"], r["lang"],
              "yes" if r["active"] else "disabled") for r in rows])))

    @user_app.command("password")
    def user_password(
        username: Annotated[str, typer.Argument(metavar="USERNAME")],
        password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the "
                                  "password from the first line of standard input.")] = False,
        workspace: WorkspaceOption = None, app_db: AppDbOption = None, as_json: JsonOption = False,
    ) -> None:
        """Set USERNAME's password (asked for, or --password-stdin); every session and API
        token of theirs ends."""
        from salesradar.app.users import set_password

        secret = read_password(None, password_stdin)
        with open_app_db(workspace, app_db) as db:
            user = set_password(db, username, secret)
            record(db, cli_actor(), "user.password", user.username, {"set": True})
        output.emit(user.to_dict(), as_json, lambda: output.console.print(
            f"password of {user.username} set; their sessions and API tokens ended",
            highlight=False))

    @user_app.command("token")
    def user_token(username: Annotated[str, typer.Argument(metavar="USERNAME")],
                   days: Annotated[int | None, typer.Option(
                       "--days", min=1, max=3650, help="Valid this many days (default: until "
                       "revoked).")] = None,
                   workspace: WorkspaceOption = None, app_db: AppDbOption = None,
                   as_json: JsonOption = False) -> None:
        """Create an API token for USERNAME; it is printed once and stored only as a hash."""
        from salesradar.app.users import create_token

        with open_app_db(workspace, app_db) as db:
            token = create_token(db, username, days=days)
        output.emit({"username": username, "token": token, "days": days}, as_json,
                    lambda: output.console.print(
                        f"{token}\n(use it as Authorization: Bearer <token>; it is not shown "
                        "again)", highlight=False))

    @user_app.command("tokens")
    def user_tokens(username: Annotated[str, typer.Argument(metavar="USERNAME")],
                    workspace: WorkspaceOption = None, app_db: AppDbOption = None,
                    as_json: JsonOption = False) -> None:
        """USERNAME's API tokens: prefix, created, last used, expiry (never the token)."""
        from salesradar.app.users import list_tokens

        with open_app_db(workspace, app_db) as db:
            rows = list_tokens(db, username)
        output.emit(rows, as_json, lambda: output.console.print(output.table(
            f"API tokens of {username}", ["prefix", "created", "last used", "expires"],
            [(r["prefix"], r["created_at"], r["last_used_at"], r["expires_at"]) for r in rows])))

    @user_app.command("revoke-token")
    def user_revoke_token(
        username: Annotated[str, typer.Argument(metavar="USERNAME")],
        prefix: Annotated[str | None, typer.Option(help="Only the token starting so (salesradar "
                          "user tokens shows the prefixes); default: every token.")] = None,
        workspace: WorkspaceOption = None, app_db: AppDbOption = None, as_json: JsonOption = False,
    ) -> None:
        """Revoke USERNAME's API tokens (all, or the one with --prefix): they answer 401."""
        from salesradar.app.users import revoke_tokens

        with open_app_db(workspace, app_db) as db:
            count = revoke_tokens(db, username, prefix)
        if prefix and not count:
            raise UserInputError(f"{username} has no token starting {prefix!r}: salesradar "
                                 f"user tokens {username} lists them")
        output.emit({"username": username, "revoked": count}, as_json,
                    lambda: output.console.print(f"{count} token(s) of {username} revoked",
                                                 highlight=False))

    @user_app.command("sessions")
    def user_sessions(
        username: Annotated[str, typer.Argument(metavar="USERNAME")],
        end: Annotated[bool, typer.Option("--end", help="End them all (logged out "
                       "everywhere).")] = False,
        workspace: WorkspaceOption = None, app_db: AppDbOption = None, as_json: JsonOption = False,
    ) -> None:
        """USERNAME's live browser sessions; with --end, end them all."""
        from salesradar.app.users import end_sessions, list_sessions

        with open_app_db(workspace, app_db) as db:
            if end:
                count = end_sessions(db, username)
                output.emit({"username": username, "ended": count}, as_json,
                            lambda: output.console.print(
                                f"{count} session(s) of {username} ended", highlight=False))
                return
            rows = list_sessions(db, username)
        output.emit(rows, as_json, lambda: output.console.print(output.table(
            f"sessions of {username}", ["started", "expires"],
            [(r["created_at"], r["expires_at"]) for r in rows])))

    for action, active in (("disable", False), ("enable", True)):
        _activation_command(user_app, action, active)


def _activation_command(user_app: typer.Typer, action: str, active: bool) -> None:
    """Register ``user disable`` or ``user enable``."""

    def command(username: Annotated[str, typer.Argument(metavar="USERNAME")],
                workspace: WorkspaceOption = None, app_db: AppDbOption = None,
                as_json: JsonOption = False) -> None:
        from salesradar.app.users import set_active

        with open_app_db(workspace, app_db) as db:
            user = set_active(db, username, active)
            record(db, cli_actor(), "user.enable" if active else "user.disable", user.username)
        said = ("enabled (they log in again; old tokens stay revoked)" if active else
                "disabled: their sessions and API tokens ended")
        output.emit({**user.to_dict(), "active": active}, as_json,
                    lambda: output.console.print(f"{user.username} {said}", highlight=False))

    command.__doc__ = ("Enable USERNAME again (they log in anew; ended sessions and tokens stay "
                       "ended)." if active else "Disable USERNAME: they cannot log in, and every "
                       "session and API token of theirs answers 401 at once.")
    user_app.command(action)(command)
