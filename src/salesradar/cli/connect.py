"""Commands for connections to source systems: connect, connect list, connect test, sync.

``salesradar connect hubspot|priority|sap-b1 NAME`` stores a connection in the workspace (URL,
company, where the credential is read from: never the credential); ``salesradar sync [NAME]``
pulls what changed into the canonical tables, all or nothing per connection. The work is done
by :mod:`salesradar.connectors`; this module only parses and prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from salesradar.cli import output
from salesradar.cli.options import (
    JsonOption,
    WorkspaceOption,
    existing_workspace,
    writing_workspace,
)
from salesradar.connectors.base import ConnectorError
from salesradar.connectors.secrets import CredentialSource, check_file
from salesradar.connectors.store import Connection, save_connection

if TYPE_CHECKING:  # the sync (and through it the importer) loads when a command needs it
    from salesradar.connectors.sync import SyncReport

HUBSPOT_API = "https://api.hubapi.com"
OPTIONS: dict[str, type] = {"page_size": int, "overlap_minutes": float,
                            "search_interval": float, "daily_reserve": int, "read_whole": str,
                            "sync_before_refresh": str}

TokenEnvOption = Annotated[str | None, typer.Option(
    "--token-env", metavar="VAR", help="Environment variable holding the credential (a HubSpot "
    "token; USER:PASSWORD or TOKEN:PAT for Priority; USER:PASSWORD for SAP B1).")]
SecretsFileOption = Annotated[Path | None, typer.Option(
    "--secrets-file", metavar="PATH", help="File holding the credential, readable by its owner "
    "only (chmod 600).")]
MappingOption = Annotated[list[str] | None, typer.Option(
    "--mapping", metavar="FEED=PATH", help="Your own mapping file for a feed or table (e.g. "
    "invoice_lines=my_invoices.yaml) instead of the shipped one. Repeatable.")]
SettingOption = Annotated[list[str] | None, typer.Option(
    "--option", metavar="KEY=VALUE", help="page_size, overlap_minutes (default 60), "
    "search_interval (HubSpot, s), daily_reserve (HubSpot calls), read_whole (Priority forms "
    "without UDATE, e.g. CUSTOMERS,LOGPART), sync_before_refresh (yes/no, default yes: the "
    "server's refresh syncs it first). Repeatable.")]
CompanyOption = Annotated[str | None, typer.Option(
    "--company", help="Priority: the company code in the service URL. SAP B1: the company "
    "database (CompanyDB).")]
NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="A name for the connection.")]


def _credential(name: str, token_env: str | None, secrets_file: Path | None) -> CredentialSource:
    if (token_env is None) == (secrets_file is None):
        raise ConnectorError(f"connection {name!r}: give exactly one of --token-env VAR or "
                             "--secrets-file PATH (the credential itself is never stored)")
    if secrets_file is not None:
        path = secrets_file.expanduser().resolve()
        check_file(name, path)
        return CredentialSource("file", str(path))
    assert token_env is not None
    return CredentialSource("env", token_env)


def _pairs(name: str, items: list[str] | None, what: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConnectorError(f"connection {name!r}: {what} must be KEY=VALUE, not {item!r}")
        found[key.strip()] = value.strip()
    return found


def _options(name: str, items: list[str] | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key, value in _pairs(name, items, "--option").items():
        kind = OPTIONS.get(key)
        if kind is None:
            raise ConnectorError(f"connection {name!r}: unknown option {key!r}; the options "
                                 f"are: {', '.join(OPTIONS)}")
        try:
            options[key] = kind(value)
        except ValueError:
            raise ConnectorError(f"connection {name!r}: option {key} must be a number, not "
                                 f"{value!r}") from None
    before = str(options.get("sync_before_refresh", "yes")).lower()
    if before not in ("yes", "no", "on", "off", "true", "false", "1", "0"):
        raise ConnectorError(f"connection {name!r}: sync_before_refresh is yes or no")
    whole = {w.strip().upper() for w in str(options.get("read_whole", "")).split(",")}
    if whole - {"", "CUSTOMERS", "LOGPART", "AINVOICES"}:
        raise ConnectorError(f"connection {name!r}: read_whole names Priority forms: "
                             "CUSTOMERS, LOGPART or AINVOICES")
    return options


def _store(system: str, name: str, url: str, company: str | None, token_env: str | None,
           secrets_file: Path | None, mappings: list[str] | None, settings: list[str] | None,
           workspace: Path | None, as_json: bool) -> None:
    """Check and store a connection; print what was stored."""
    from salesradar.connectors.sync import feed_mapping, objects_of

    if system in ("priority", "sap-b1") and not company:
        raise ConnectorError(f"connection {name!r}: {system} needs --company")
    own = {feed: str(Path(path).expanduser().resolve())
           for feed, path in _pairs(name, mappings, "--mapping").items()}
    connection = Connection(name=name, system=system, url=url.rstrip("/"), company=company,
                            credential=_credential(name, token_env, secrets_file),
                            mappings=own, options=_options(name, settings))
    feeds = {f.mapping: f for o in objects_of(system) for f in o.feeds}
    tables = {f.table for f in feeds.values()}
    for key in own:
        if key not in feeds and key not in tables:
            raise ConnectorError(f"connection {name!r}: --mapping {key}=... names no feed of "
                                 f"{system}; the feeds: {', '.join(sorted(feeds))} (or a "
                                 f"table: {', '.join(sorted(tables))})")
    for feed in feeds.values():
        feed_mapping(connection, feed)  # a broken mapping file fails now, not at the sync
    with writing_workspace(workspace, create=True) as ws:
        replaced = save_connection(ws, connection)
    data = {"stored": connection.to_dict(), "replaced": replaced}
    output.emit(data, as_json, lambda: output.console.print(
        f"[green]{'replaced' if replaced else 'stored'}[/] connection {name} ({system}, "
        f"{connection.url}); the credential is read from {connection.credential} at each sync. "
        f"Check it with: salesradar connect test {name}", highlight=False))


def _print_report(report: SyncReport) -> None:
    state = "[green]synced[/]" if report.ok else "[red]failed[/]"
    output.console.print(
        f"{state} {report.connection} ({report.system}{', full' if report.full else ''}): "
        f"{report.fetched:,} records fetched, {report.changed:,} rows changed in "
        f"{report.seconds:.1f} s ({report.requests:,} requests"
        + (f", {report.retries} retries" if report.retries else "")
        + (f", {report.rate_limited} rate-limited, {report.waited_s:.0f} s waited"
           if report.rate_limited else "") + ")", highlight=False)
    if report.error:
        output.err_console.print(f"[red]error[/]: {report.error}", highlight=False)
    output.console.print(output.table(
        None, ["object", "tables", "since", "fetched", "changed", "inserted", "updated",
               "deleted", "high-water mark"],
        [(o.object, ", ".join(dict.fromkeys(o.tables)), o.since or "(all)", f"{o.fetched:,}",
          f"{o.changed:,}", f"{o.inserted:,}", f"{o.updated:,}", f"{o.deleted:,}",
          o.high_water) for o in report.objects], whole=1))
    for item in report.objects:
        for warning in item.warnings:
            output.err_console.print(f"[yellow]warning[/] {item.object}: {warning}",
                                     highlight=False)


def connect_commands(app: typer.Typer) -> None:
    """Register ``connect`` (a group) and ``sync`` on the main app."""
    group = typer.Typer(help="Connections to HubSpot, Priority and SAP Business One: store, "
                        "list, test.", no_args_is_help=True)
    app.add_typer(group, name="connect")

    @group.command("hubspot")
    def connect_hubspot(
        name: NameArgument, token_env: TokenEnvOption = None,
        secrets_file: SecretsFileOption = None,
        url: Annotated[str, typer.Option(help="API base URL.")] = HUBSPOT_API,
        mapping: MappingOption = None, option: SettingOption = None,
        workspace: WorkspaceOption = None, as_json: JsonOption = False,
    ) -> None:
        """Connect a HubSpot account (CRM API v3, private app access token)."""
        _store("hubspot", name, url, None, token_env, secrets_file, mapping, option,
               workspace, as_json)

    @group.command("priority")
    def connect_priority(
        name: NameArgument,
        url: Annotated[str, typer.Option(help="Service URL up to tabula.ini, e.g. "
                       "https://erp.example.co.il/odata/Priority/tabula.ini")],
        company: CompanyOption = None, token_env: TokenEnvOption = None,
        secrets_file: SecretsFileOption = None, mapping: MappingOption = None,
        option: SettingOption = None, workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Connect a Priority company (REST API / OData, Basic auth or a personal token)."""
        _store("priority", name, url, company, token_env, secrets_file, mapping, option,
               workspace, as_json)

    @group.command("sap-b1")
    def connect_sap(
        name: NameArgument,
        url: Annotated[str, typer.Option(help="Service Layer root, e.g. "
                       "https://b1.example.com:50000/b1s/v1")],
        company: CompanyOption = None, token_env: TokenEnvOption = None,
        secrets_file: SecretsFileOption = None, mapping: MappingOption = None,
        option: SettingOption = None, workspace: WorkspaceOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Connect an SAP Business One company database (Service Layer login)."""
        _store("sap-b1", name, url, company, token_env, secrets_file, mapping, option,
               workspace, as_json)

    @group.command("list")
    def connect_list(workspace: WorkspaceOption = None, as_json: JsonOption = False) -> None:
        """The connections, their last sync (or its error) and their high-water marks."""
        from salesradar.connectors.sync import connections_overview

        overview = connections_overview(existing_workspace(workspace))

        def render() -> None:
            if not overview:
                output.console.print("no connections yet: add one with salesradar connect "
                                     "hubspot|priority|sap-b1 NAME ...", highlight=False)
                return
            rows = []
            for c in overview:
                last = c["last_sync"] or {}
                state = ("never synced" if not last else
                         f"ok {last.get('finished_at')}" if last.get("ok") else
                         f"FAILED {last.get('finished_at')}: {last.get('error')}")
                rows.append((c["name"], c["system"], c["url"], c["company"], c["credential"],
                             state))
            output.console.print(output.table(
                None, ["name", "system", "url", "company", "credential", "last sync"], rows,
                whole=1))

        output.emit(overview, as_json, render)

    @group.command("test")
    def connect_test(name: NameArgument, workspace: WorkspaceOption = None,
                     as_json: JsonOption = False) -> None:
        """One authenticated call to the system: does the URL answer, is the credential good?"""
        from salesradar.connectors.sync import test_connection

        result = test_connection(existing_workspace(workspace), name)
        output.emit(result, as_json, lambda: output.console.print(
            f"[green]ok[/] connection {name} ({result['system']}) answered in "
            f"{result['seconds']:.2f} s", highlight=False))

    @app.command("sync")
    def sync_command(
        name: Annotated[str | None, typer.Argument(metavar="[NAME]", help="The connection to "
                        "sync (default: every connection).", show_default=False)] = None,
        full: Annotated[bool, typer.Option("--full", help="Read everything again, not only "
                        "what changed since the last sync.")] = False,
        workspace: WorkspaceOption = None, as_json: JsonOption = False,
    ) -> None:
        """Pull what changed in the connected systems into the workspace.

        Each connection is one all-or-nothing publish: a failure changes nothing and the next
        sync starts again from the same point.
        """
        from salesradar.connectors.sync import SyncFailed, sync

        path = existing_workspace(workspace)
        failed: SyncFailed | None = None
        with output.progress() as bar:
            task = bar.add_task("sync", total=None)
            try:
                reports = sync(path, [name] if name else None, full=full,
                               progress=lambda text: bar.update(task, description=text))
            except SyncFailed as exc:  # some of several connections: report them all
                failed, reports = exc, exc.reports
        data = {"ok": failed is None, "reports": [r.to_dict() for r in reports]}

        def render() -> None:
            for report in reports:
                _print_report(report)

        output.emit(data, as_json, render)
        if failed is not None:
            raise typer.Exit(2)
