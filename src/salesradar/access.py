"""Who may see what: the one place where visibility is decided, below every page and endpoint.

A :class:`Scope` is the set of reps whose customers, deals and insights a user may see: ``None``
for an admin (everything), the team's reps for a manager, the rep alone for a rep. Every service
that returns rows takes a scope and reads through it:

* :func:`scoped_workspace` opens the workspace read-only as a workspace whose canonical and score
  tables are *views* restricted to the scope, so the KPI registry, the whale curve and the
  customer 360 view run unchanged and cannot see other reps' rows;
* :func:`visible_insights` and :func:`visible_insight` filter the insight store.

A rep asking for another rep's customer, deal or insight gets :class:`NotVisible`, which the API
and the pages answer with 404, exactly as for an id that does not exist (no existence leak).

>>> EVERYTHING.allows_rep("R13"), Scope(frozenset({"R01"})).allows_rep("R13")
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salesradar.engine import connect_duckdb, raw_duckdb, table_names
from salesradar.errors import SalesradarError, UserInputError, WorkspaceError
from salesradar.workspace import Workspace, literal, quote

ROLES = ("admin", "manager", "rep")


class NotVisible(SalesradarError, LookupError):
    """The object does not exist, or the user may not see it (both answer 404)."""


@dataclass(frozen=True)
class Scope:
    """The reps a user may see; ``rep_ids is None`` means every rep and unowned rows too."""

    rep_ids: frozenset[str] | None

    @property
    def everything(self) -> bool:
        return self.rep_ids is None

    def allows_rep(self, rep_id: str | None) -> bool:
        """Whether rows owned by ``rep_id`` are visible (unowned rows only to admins)."""
        return self.rep_ids is None or (rep_id is not None and rep_id in self.rep_ids)

    def key(self) -> str:
        """A stable cache key."""
        return "*" if self.rep_ids is None else ",".join(sorted(self.rep_ids))

    def to_dict(self) -> dict[str, Any]:
        return {"rep_ids": None if self.rep_ids is None else sorted(self.rep_ids)}


EVERYTHING = Scope(None)


def scope_for(
    role: str, rep_id: str | None, team: str | None, reps: Iterable[Mapping[str, Any]]
) -> Scope:
    """The scope of a user: admin everything; manager the reps of their team or reporting to
    them (and themselves); rep only their own rep id (nothing when they have none)."""
    if role == "admin":
        return EVERYTHING
    if role == "manager":
        ids = {str(r["rep_id"]) for r in reps
               if (team and r.get("team") == team) or (rep_id and r.get("manager_id") == rep_id)}
        if rep_id:
            ids.add(rep_id)
        return Scope(frozenset(ids))
    return Scope(frozenset({rep_id}) if rep_id else frozenset())


# -- the workspace through a scope -----------------------------------------------------------
# Which column ties each table's rows to a rep or to a visible customer. A table not listed
# here (marts of company totals, anything unknown) is hidden from scoped users altogether.
_BY_REP = {"reps": "rep_id", "deals": "owner_rep_id", "leads": "owner_rep_id",
           "activities": "rep_id", "forecast_submissions": "rep_id", "targets": "rep_id"}
_BY_CUSTOMER = ("customers", "invoice_lines", "contacts", "payments", "cost_to_serve",
                "score_churn", "score_stopped_items", "score_cross_sell", "score_tiers",
                "score_health")
_UNSCOPED = ("products",)  # the catalogue is the same for everyone


def scoped_workspace(path: str | Path, scope: Scope) -> Workspace:
    """The workspace at ``path``, read-only, seen through ``scope``.

    With :data:`EVERYTHING` it is the workspace itself (read-only). Otherwise it is an
    in-memory DuckDB that attaches the file read-only and defines one view per table, filtered to
    the scope: rows of the scope's reps, and rows of the customers they own (``customers.rep_id``;
    a customer without a master row belongs to the reps on its invoice lines).
    """
    if scope.rep_ids is None:
        return Workspace.open(path, read_only=True)
    backend = connect_duckdb(":memory:")  # a bad memory limit is the user's UserInputError
    con = raw_duckdb(backend)
    try:
        con.execute(f"ATTACH {literal(str(path))} AS ws (READ_ONLY)")
    except Exception as exc:  # locked by a writer, missing, not a DuckDB file
        con.close()
        raise WorkspaceError(f"cannot open workspace {path}: {exc}") from exc
    present = {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'ws'").fetchall()}
    # the scope's rep ids travel as a bound parameter; every other SQL part below is a fixed
    # identifier of this module or a quote()d table name, so no user text reaches SQL
    con.execute("CREATE TABLE _scope_reps AS SELECT unnest(?::VARCHAR[]) AS rep_id",
                [sorted(scope.rep_ids)])
    in_scope = "IN (SELECT rep_id FROM _scope_reps)"
    owned = []
    if "customers" in present:
        owned.append("SELECT customer_id FROM ws.main.customers "
                     "WHERE rep_id IN (SELECT rep_id FROM _scope_reps)")
    if "invoice_lines" in present:
        unmastered = ("AND customer_id NOT IN (SELECT customer_id FROM ws.main.customers)"
                      if "customers" in present else "")
        owned.append("SELECT DISTINCT customer_id FROM ws.main.invoice_lines "  # noqa: S608
                     f"WHERE rep_id IN (SELECT rep_id FROM _scope_reps) {unmastered}")
    union = " UNION ".join(owned) or "SELECT NULL::VARCHAR AS customer_id"
    con.execute(f"CREATE TABLE _scope_customers AS {union}")
    for table in sorted(present):
        if table in _BY_REP:
            where = f"{quote(_BY_REP[table])} {in_scope}"
        elif table in _BY_CUSTOMER:
            where = "customer_id IN (SELECT customer_id FROM _scope_customers)"
        elif table == "deal_stage_history" and "deals" in present:
            where = ("deal_id IN (SELECT deal_id FROM ws.main.deals "
                     "WHERE owner_rep_id IN (SELECT rep_id FROM _scope_reps))")
        elif table in _UNSCOPED:
            where = "TRUE"
        else:
            continue
        con.execute(f"CREATE VIEW {quote(table)} AS "  # noqa: S608
                    f"SELECT * FROM ws.main.{quote(table)} WHERE {where}")
    return Workspace(backend, str(path))


def customer_visible(ws: Workspace, customer_id: str) -> bool:
    """Whether ``customer_id`` has any row the scoped workspace ``ws`` can see."""
    tables = table_names(ws.backend)
    for table in ("customers", "invoice_lines"):
        if table in tables:
            row = ws.con.execute(
                f"SELECT 1 FROM {quote(table)} WHERE customer_id = ? LIMIT 1",  # noqa: S608
                [customer_id]).fetchone()
            if row:
                return True
    return False


def require_customer(ws: Workspace, customer_id: str) -> None:
    """Raise :class:`NotVisible` unless the customer exists within the scope of ``ws``."""
    if not customer_visible(ws, customer_id):
        raise NotVisible(f"no customer {customer_id!r}")


def require_rep(scope: Scope, rep_id: str) -> None:
    """Raise :class:`NotVisible` unless ``rep_id`` is within ``scope``."""
    if not scope.allows_rep(rep_id):
        raise NotVisible(f"no rep {rep_id!r}")


# -- insights through a scope ----------------------------------------------------------------
def visible_insights(
    store: Any, scope: Scope, *, status: Iterable[str] | None = None,
    owner_rep_id: str | None = None, kind: str | None = None, limit: int | None = None,
    offset: int = 0,
) -> list[Any]:
    """Insights of the store owned within ``scope``, largest value at stake first (then
    priority, then id), filtered as asked; at most ``limit`` from ``offset`` (one indexed query:
    the inbox of a rep with thousands of insights reads only the rows it shows)."""
    from sqlalchemy import select

    from salesradar.app.models import InsightRow
    from salesradar.insights import Kind, Status, StoredInsight

    query = select(InsightRow)
    if scope.rep_ids is not None:
        query = query.where(InsightRow.owner_rep_id.in_(sorted(scope.rep_ids)))
    if owner_rep_id is not None:
        query = query.where(InsightRow.owner_rep_id == owner_rep_id)
    try:
        if status is not None:
            query = query.where(InsightRow.status.in_([Status(x).value for x in status]))
        if kind is not None:
            query = query.where(InsightRow.kind == Kind(kind).value)
    except ValueError as exc:
        raise UserInputError(f"{exc}; statuses: {', '.join(s.value for s in Status)}; kinds: "
                             f"{', '.join(k.value for k in Kind)}") from None
    query = query.order_by(InsightRow.value_at_stake.desc(), InsightRow.priority.desc(),
                           InsightRow.id).limit(limit).offset(offset or None)
    with store.db.session() as s:
        return [StoredInsight.of(r) for r in s.scalars(query)]


def visible_insight(store: Any, scope: Scope, insight_id: int) -> Any:
    """One insight if the scope may see it, else :class:`NotVisible` (as if it did not exist)."""
    try:
        found = store.get(insight_id)
    except UserInputError:
        raise NotVisible(f"no insight {insight_id}") from None
    if not scope.allows_rep(found.owner_rep_id):
        raise NotVisible(f"no insight {insight_id}")
    return found
