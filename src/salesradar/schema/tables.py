"""The canonical tables of a workspace (DESIGN.md, "Canonical data model").

Each table is declared once, as data: its columns with a logical type, which are required, which
form the key an import upserts on, the values an enumerated column may take, and the sign rules.
The importer, the workspace DDL, the demo generator and the docs all read these declarations.

Only ``invoice_lines`` is required; every other table switches on the features that need it
(see :mod:`salesradar.schema.features`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColumnType(StrEnum):
    """Logical column types; :data:`DUCKDB_TYPES` says how each is stored."""

    ID = "id"  # text key, trimmed; "17850.0" from a float column becomes "17850"
    TEXT = "text"
    ENUM = "enum"  # text restricted to Column.values (case-insensitive, synonyms allowed)
    DATE = "date"
    TIMESTAMP = "timestamp"
    PERIOD = "period"  # start date of a day/week/month/quarter/year; "2024-03", "2024-Q1", "2024"
    MONEY = "money"  # exact decimal, so sums by rep add up to the company total to the agora
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"


DUCKDB_TYPES: dict[ColumnType, str] = {
    ColumnType.ID: "VARCHAR",
    ColumnType.TEXT: "VARCHAR",
    ColumnType.ENUM: "VARCHAR",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.PERIOD: "DATE",
    ColumnType.MONEY: "DECIMAL(18,4)",
    ColumnType.NUMBER: "DOUBLE",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.BOOLEAN: "BOOLEAN",
}


class Sign(StrEnum):
    """A sign rule on a numeric column."""

    ANY = "any"
    NON_NEGATIVE = "non_negative"
    SAME_AS_QUANTITY = "same_as_quantity"  # a return has negative cost and revenue, a sale not


@dataclass(frozen=True)
class Column:
    """One canonical column."""

    name: str
    type: ColumnType
    description: str
    required: bool = False
    values: tuple[str, ...] = ()  # allowed values of an ENUM column
    synonyms: dict[str, str] = field(default_factory=dict)  # source value (lower case) -> value
    sign: Sign = Sign.ANY

    @property
    def storage_type(self) -> str:
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    """One canonical table: columns, the key imports upsert on, and what it is for."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    date_column: str | None = None  # the column `status` reports a date range for
    generated_key: str | None = None  # a key column numbered per file when the source lacks it
    generated_key_group: tuple[str, ...] = ()  # ...numbered within these columns

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(col.name for col in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(col.name for col in self.columns if col.required)


def _col(
    name: str,
    type_: ColumnType,
    description: str,
    *,
    required: bool = False,
    values: tuple[str, ...] = (),
    synonyms: dict[str, str] | None = None,
    sign: Sign = Sign.ANY,
) -> Column:
    return Column(name, type_, description, required, values, synonyms or {}, sign)


T = ColumnType
OUTCOME_SYNONYMS = {
    "closedwon": "won",
    "closed won": "won",
    "closed-won": "won",
    "win": "won",
    "closedlost": "lost",
    "closed lost": "lost",
    "closed-lost": "lost",
    "loss": "lost",
    "engaging": "open",
    "prospecting": "open",
    "in progress": "open",
}
GRAIN_VALUES = ("day", "week", "month", "quarter", "year")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "invoice_lines",
            "ERP invoice lines: what was sold to whom, when, for how much. Returns and credit "
            "notes are lines with negative quantity and revenue.",
            (
                _col("invoice_id", T.ID, "Invoice or credit-note number", required=True),
                _col("line_no", T.INTEGER, "Line number within the invoice (numbered in file "
                     "order when the source has none)", required=True),
                _col("invoice_date", T.DATE, "Invoice date", required=True),
                _col("customer_id", T.ID, "Customer who was invoiced", required=True),
                _col("sku", T.ID, "Product code", required=True),
                _col("quantity", T.NUMBER, "Units; negative for a return", required=True),
                _col("net_revenue", T.MONEY, "Line amount after discounts, before VAT; negative "
                     "for a return", required=True, sign=Sign.SAME_AS_QUANTITY),
                _col("cost", T.MONEY, "Cost of goods of the line; negative for a return",
                     sign=Sign.SAME_AS_QUANTITY),
                _col("rep_id", T.ID, "Rep credited with the line"),
                _col("channel", T.TEXT, "Sales channel (field, phone, web, distributor, ...)"),
                _col("description", T.TEXT, "Product name or description as printed on the "
                     "line; names the SKU when the products table is missing"),
            ),
            key=("invoice_id", "line_no"),
            date_column="invoice_date",
            generated_key="line_no",
            generated_key_group=("invoice_id",),
        ),
        Table(
            "customers",
            "Customer master data.",
            (
                _col("customer_id", T.ID, "Customer number", required=True),
                _col("name", T.TEXT, "Customer name"),
                _col("rep_id", T.ID, "Owning rep"),
                _col("industry", T.TEXT, "Industry"),
                _col("region", T.TEXT, "Region"),
                _col("segment", T.TEXT, "Segment (e.g. key account, SMB)"),
                _col("created_at", T.DATE, "Date the customer was opened"),
                _col("potential", T.MONEY, "Estimated annual wallet", sign=Sign.NON_NEGATIVE),
            ),
            key=("customer_id",),
            date_column="created_at",
        ),
        Table(
            "products",
            "Product catalogue.",
            (
                _col("sku", T.ID, "Product code", required=True),
                _col("name", T.TEXT, "Product name"),
                _col("category", T.TEXT, "Category"),
                _col("unit_cost", T.MONEY, "Standard unit cost", sign=Sign.NON_NEGATIVE),
                _col("list_price", T.MONEY, "List price", sign=Sign.NON_NEGATIVE),
                _col("active", T.BOOLEAN, "Still sold (false = discontinued)"),
            ),
            key=("sku",),
        ),
        Table(
            "reps",
            "Sales reps and managers.",
            (
                _col("rep_id", T.ID, "Rep id", required=True),
                _col("name", T.TEXT, "Name"),
                _col("email", T.TEXT, "Email for alerts"),
                _col("team", T.TEXT, "Team"),
                _col("manager_id", T.ID, "rep_id of the manager"),
                _col("role", T.TEXT, "Role (rep, manager, ...)"),
                _col("model", T.ENUM, "Operating model: inbound centre or account management",
                     values=("centre", "account"),
                     synonyms={"center": "centre", "inbound": "centre", "sprinter": "centre",
                               "account_manager": "account", "key_account": "account",
                               "marathoner": "account"}),
                _col("active_from", T.DATE, "First day active"),
                _col("active_to", T.DATE, "Last day active (empty while active)"),
            ),
            key=("rep_id",),
        ),
        Table(
            "cost_to_serve",
            "Costs of serving a customer beyond cost of goods, by kind and period.",
            (
                _col("customer_id", T.ID, "Customer", required=True),
                _col("period", T.PERIOD, "Period start (2024-03, 2024-Q1, 2024 or a date)",
                     required=True),
                _col("grain", T.ENUM, "Length of the period", values=GRAIN_VALUES),
                _col("kind", T.ENUM, "Kind of cost", required=True,
                     values=("service", "logistics", "sales", "credit", "support", "custom")),
                _col("amount", T.MONEY, "Amount", required=True, sign=Sign.NON_NEGATIVE),
            ),
            key=("customer_id", "period", "kind"),
            date_column="period",
        ),
        Table(
            "payments",
            "Invoice payments: when due, when paid.",
            (
                _col("invoice_id", T.ID, "Invoice (or cheque) number", required=True),
                _col("customer_id", T.ID, "Customer", required=True),
                _col("due_date", T.DATE, "Due date"),
                _col("paid_date", T.DATE, "Date paid (empty while open)"),
                _col("amount", T.MONEY, "Amount", required=True),
            ),
            key=("invoice_id", "due_date"),
            date_column="due_date",
        ),
        Table(
            "contacts",
            "People at customers.",
            (
                _col("contact_id", T.ID, "Contact id", required=True),
                _col("customer_id", T.ID, "Customer", required=True),
                _col("name", T.TEXT, "Name"),
                _col("level", T.ENUM, "Level", values=("executive", "finance", "operations",
                                                         "end_user", "other"),
                     synonyms={"end user": "end_user", "user": "end_user", "exec": "executive",
                               "ceo": "executive", "cfo": "finance", "ops": "operations"}),
                _col("email", T.TEXT, "Email"),
                _col("phone", T.TEXT, "Phone (the inbox dials it)"),
                _col("last_activity_at", T.TIMESTAMP, "Last activity with this contact"),
            ),
            key=("contact_id",),
            date_column="last_activity_at",
        ),
        Table(
            "leads",
            "Inbound leads.",
            (
                _col("lead_id", T.ID, "Lead id", required=True),
                _col("created_at", T.TIMESTAMP, "When the lead arrived", required=True),
                _col("source", T.TEXT, "Lead source"),
                _col("owner_rep_id", T.ID, "Rep who owns the lead"),
                _col("status", T.TEXT, "Lead status"),
                _col("deal_id", T.ID, "Deal the lead became (empty if none)"),
                _col("customer_id", T.ID, "Customer the lead belongs to, if known"),
                _col("name", T.TEXT, "Name of the person who asked"),
                _col("company", T.TEXT, "Company the person works for"),
                _col("phone", T.TEXT, "Phone (the inbox dials it)"),
                _col("email", T.TEXT, "Email"),
            ),
            key=("lead_id",),
            date_column="created_at",
        ),
        Table(
            "deals",
            "CRM opportunities.",
            (
                _col("deal_id", T.ID, "Deal id", required=True),
                _col("customer_id", T.ID, "Customer"),
                _col("owner_rep_id", T.ID, "Owning rep"),
                _col("pipeline", T.TEXT, "Pipeline"),
                _col("stage", T.TEXT, "Current stage"),
                _col("amount", T.MONEY, "Deal amount", sign=Sign.NON_NEGATIVE),
                _col("created_at", T.DATE, "Created", required=True),
                _col("close_date", T.DATE, "Expected or actual close date"),
                _col("outcome", T.ENUM, "open, won or lost", required=True,
                     values=("open", "won", "lost"), synonyms=OUTCOME_SYNONYMS),
                _col("forecast_category", T.TEXT, "Forecast category (commit, best case, ...)"),
                _col("lost_reason", T.TEXT, "Why it was lost"),
            ),
            key=("deal_id",),
            date_column="created_at",
        ),
        Table(
            "deal_stage_history",
            "When each deal entered each stage.",
            (
                _col("deal_id", T.ID, "Deal", required=True),
                _col("stage", T.TEXT, "Stage entered", required=True),
                _col("entered_at", T.TIMESTAMP, "When", required=True),
            ),
            key=("deal_id", "stage", "entered_at"),
            date_column="entered_at",
        ),
        Table(
            "activities",
            "Calls, meetings, emails and tasks.",
            (
                _col("activity_id", T.ID, "Activity id", required=True),
                _col("kind", T.ENUM, "Kind", required=True,
                     values=("call", "meeting", "email", "task"),
                     synonyms={"calls": "call", "meetings": "meeting", "emails": "email",
                               "tasks": "task", "phone": "call"}),
                _col("rep_id", T.ID, "Rep who did it"),
                _col("customer_id", T.ID, "Customer"),
                _col("lead_id", T.ID, "Lead"),
                _col("deal_id", T.ID, "Deal"),
                _col("at", T.TIMESTAMP, "When", required=True),
                _col("outcome", T.TEXT, "Outcome (answered, no_answer, ...)"),
                _col("duration_s", T.NUMBER, "Duration in seconds", sign=Sign.NON_NEGATIVE),
            ),
            key=("activity_id",),
            date_column="at",
        ),
        Table(
            "targets",
            "Targets per rep (or team), period and metric.",
            (
                _col("rep_id", T.ID, "Rep (empty for a team target)"),
                _col("team", T.TEXT, "Team (for a team target)"),
                _col("period", T.PERIOD, "Period start", required=True),
                _col("grain", T.ENUM, "Length of the period", values=GRAIN_VALUES),
                _col("metric", T.TEXT, "KPI name, e.g. revenue", required=True),
                _col("value", T.NUMBER, "Target value", required=True),
            ),
            key=("rep_id", "team", "period", "metric"),
            date_column="period",
        ),
        Table(
            "forecast_submissions",
            "What reps forecast for a period, and when.",
            (
                _col("rep_id", T.ID, "Rep", required=True),
                _col("period", T.PERIOD, "Period forecast", required=True),
                _col("grain", T.ENUM, "Length of the period", values=GRAIN_VALUES),
                _col("submitted_at", T.TIMESTAMP, "When submitted", required=True),
                _col("category", T.ENUM, "commit, best_case or pipeline", required=True,
                     values=("commit", "best_case", "pipeline"),
                     synonyms={"best case": "best_case", "bestcase": "best_case"}),
                _col("amount", T.MONEY, "Amount", required=True, sign=Sign.NON_NEGATIVE),
                _col("measure", T.ENUM, "What the amount forecasts: invoiced revenue (empty) "
                     "or won deal amount", values=("revenue", "won_amount"),
                     synonyms={"won": "won_amount", "won amount": "won_amount",
                               "invoiced": "revenue", "invoiced revenue": "revenue"}),
            ),
            key=("rep_id", "period", "submitted_at", "category"),
            date_column="period",
        ),
    )
}


# Master tables first, so that reference checks of the later ones can see them.
LOAD_ORDER: tuple[str, ...] = (
    "reps", "customers", "products", "invoice_lines", "cost_to_serve", "payments", "contacts",
    "deals", "deal_stage_history", "leads", "activities", "targets", "forecast_submissions",
)

# Ids that should exist in a master table. An import reports the ones that don't (a warning by
# default, configurable to an error) when the master table holds rows.
REFERENCES: dict[str, dict[str, tuple[str, str]]] = {
    "invoice_lines": {"customer_id": ("customers", "customer_id"), "sku": ("products", "sku"),
                      "rep_id": ("reps", "rep_id")},
    "customers": {"rep_id": ("reps", "rep_id")},
    "reps": {"manager_id": ("reps", "rep_id")},
    "cost_to_serve": {"customer_id": ("customers", "customer_id")},
    "payments": {"customer_id": ("customers", "customer_id")},
    "contacts": {"customer_id": ("customers", "customer_id")},
    "leads": {"owner_rep_id": ("reps", "rep_id"), "deal_id": ("deals", "deal_id")},
    "deals": {"customer_id": ("customers", "customer_id"), "owner_rep_id": ("reps", "rep_id")},
    "deal_stage_history": {"deal_id": ("deals", "deal_id")},
    "activities": {"rep_id": ("reps", "rep_id"), "customer_id": ("customers", "customer_id"),
                   "lead_id": ("leads", "lead_id"), "deal_id": ("deals", "deal_id")},
    "targets": {"rep_id": ("reps", "rep_id")},
    "forecast_submissions": {"rep_id": ("reps", "rep_id")},
}


def table(name: str) -> Table:
    """Look a canonical table up by name, with a clear error listing the valid names."""
    from salesradar.errors import UserInputError

    try:
        return TABLES[name]
    except KeyError:
        raise UserInputError(
            f"unknown table {name!r}; the canonical tables are: {', '.join(TABLES)}"
        ) from None


assert set(LOAD_ORDER) == set(TABLES), "LOAD_ORDER must list every canonical table once"
