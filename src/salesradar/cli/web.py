"""Commands of the web app: serve, and user add | list | token."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from salesradar.cli import output
from salesradar.cli.options import (
    AppDbOption,
    JsonOption,
    WorkspaceOption,
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


def serve_workspace(target: Path, app_db: str | None, host: str, port: int, *,
                    https: bool = False) -> None:
    """Run the web app on ``target`` with uvicorn until interrupted."""
    import uvicorn

    from salesradar.api import create_app

    with open_app_db(target, app_db) as db:
        uvicorn.run(create_app(target, db, secure_cookies=https, warm=True), host=host,
                    port=port, log_level="warning")


def web_commands(app: typer.Typer) -> None:
    """Register this module's commands on the main app."""
    user_app = typer.Typer(help="Users of the web app: add, list, token.", no_args_is_help=True)
    app.add_typer(user_app, name="user")

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
        https: Annotated[bool, typer.Option("--https", help="Served behind HTTPS: mark the "
                         "session cookie Secure.")] = False,
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Serve the dashboard, the pages and the REST API (/docs) with uvicorn.

        The workspace is opened read-only per request and never held, so `salesradar run` can
        refresh it while the app is up (see docs/web.md).
        """
        target = workspace_path(workspace)
        if not target.exists():
            raise UserInputError(f"no workspace at {target}: run salesradar demo or import data "
                                 "first, or pass --workspace")
        url = f"http://{host}:{port}/"
        output.emit({"url": url, "workspace": str(target)}, as_json, lambda: output.console.print(
            f"serving {target} on {url} (API docs: {url}docs); Ctrl+C stops", highlight=False))
        serve_workspace(target, app_db, host, port, https=https)

    @user_app.command("add")
    def user_add(
        username: Annotated[str, typer.Argument(metavar="USERNAME")],
        role: Annotated[str, typer.Option(help="admin, manager or rep.")],
        password: Annotated[str, typer.Option(help="At least 8 characters.")],
        rep_id: Annotated[str | None, typer.Option("--rep-id", help="The rep id this user is "
                          "(a rep sees only their own customers).")] = None,
        team: Annotated[str | None, typer.Option(help="A manager's team (reps.team).")] = None,
        lang: Annotated[str, typer.Option(help="The user's language (pages and messages): "
                        "en or he.", callback=parse_lang)] = "en",
        workspace: WorkspaceOption = None,
        app_db: AppDbOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Create a user, or update an existing one (role, password, rep, team, language)."""
        from salesradar.app.users import add_user

        with open_app_db(workspace, app_db) as db:
            user = add_user(db, username, password, role=role, rep_id=rep_id, team=team,
                            lang=lang)
        output.emit(user.to_dict(), as_json, lambda: output.console.print(
            f"user {user.username} ({user.role}) saved", highlight=False))

    @user_app.command("list")
    def user_list(workspace: WorkspaceOption = None, app_db: AppDbOption = None,
                  as_json: JsonOption = False) -> None:
        """The users: name, role, rep id, team, language."""
        from salesradar.app.users import list_users

        with open_app_db(workspace, app_db) as db:
            rows = [u.to_dict() for u in list_users(db)]
        output.emit(rows, as_json, lambda: output.console.print(output.table(
            "users", ["username", "role", "rep_id", "team", "lang"],
            [(r["username"], r["role"], r["rep_id"], r["team"], r["lang"]) for r in rows])))

    @user_app.command("token")
    def user_token(username: Annotated[str, typer.Argument(metavar="USERNAME")],
                   workspace: WorkspaceOption = None, app_db: AppDbOption = None,
                   as_json: JsonOption = False) -> None:
        """Create an API token for USERNAME; it is printed once and stored only as a hash."""
        from salesradar.app.users import create_token

        with open_app_db(workspace, app_db) as db:
            token = create_token(db, username)
        output.emit({"username": username, "token": token}, as_json, lambda: output.console.print(
            f"{token}\n(use it as Authorization: Bearer <token>; it is not shown again)",
            highlight=False))
