"""The truth audit: recompute every claim an insight or explanation states from the raw lines.

"Truth before reach" (DESIGN.md): each sentence a person reads must be recomputable from the
raw invoice lines. An insight carries its numbers as ``evidence["claims"]``
(:mod:`salesradar.insights.claims`); the customer 360 carries ``why_claims`` beside its ``why``
lines. This module checks them three ways:

1. **Claims.** Each claim is recomputed here, independently of the models and rules that made
   it: our own SQL over ``invoice_lines`` on DuckDB, set-based (the claims are loaded into a
   relation and each family is verified in one query, however many claims there are).
   Money agrees to 0.01 or 0.05% of the amount, days and counts exactly, a median exactly
   (a half-day median is fine: the text rounds). ``value_at_stake`` must also not exceed what
   the subject bought (gross sales) in that year. ``model_output`` and ``setting`` are counted
   and range-checked only.
2. **Words.** "every ~N days" / "orders every" need a ``median_gap_days`` claim over at least
   three purchase days whose median rounds to N; "drifting", "stopped ordering", "has
   stopped" and "past its rhythm" need a true ``past_rhythm`` claim, "within its rhythm" a
   false one over three purchase days or more; "paused N days before and came back" needs a
   ``longest_gap_days`` claim no shorter than the days since the last purchase day, "its
   longest pause before was" and "longer than any before" one shorter (each of them, when
   there are several), and "drifting" / "stopped" none no shorter; "bought once" / "bought
   twice" need ``purchase_days`` 1 / 2.
3. **Numbers.** Every number of the English *what* and *why* (money such as ``₪20k``,
   ``₪3,528`` or ``£1.2M``, counts, percentages, dd/mm/yyyy or ISO dates) must be the value of
   one of the statement's claims as the texts format it (or, for a count of days, the distance
   between two of its dates); otherwise it is an *unbacked number*.

A statement without any claim is a disagreement too ("no evidence").

>>> report = AuditReport()
>>> report.to_dict()["false_claims"]
0
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from salesradar.currency import SIGN_PATTERN
from salesradar.insights.claims import CLAIMS, Claim
from salesradar.workspace import quote

__all__ = [
    "AuditReport",
    "Disagreement",
    "Statement",
    "audit",
    "audit_insights",
    "explanation_statements",
    "insight_statement",
]

MONEY_CLAIMS = frozenset({"sales_on_day", "net_revenue", "gross_sales", "returned",
                          "value_at_stake"})
DAY_CLAIMS = frozenset({"first_purchase_day", "last_purchase_day", "previous_purchase_day"})
COUNT_CLAIMS = frozenset({"purchase_days", "days_since_last_purchase", "purchase_days_in",
                          "distinct_skus"})
RHYTHM_CLAIMS = frozenset({"purchase_days", "first_purchase_day", "last_purchase_day",
                           "previous_purchase_day", "median_gap_days", "longest_gap_days",
                           "days_since_last_purchase", "past_rhythm", "value_at_stake"})
WINDOW_CLAIMS = frozenset({"sales_on_day", "net_revenue", "gross_sales", "returned",
                           "purchase_days_in"})
# claims over the lines of a subject (a customer, a pair, customers, a rep, a SKU or every line)
LINE_WINDOW_CLAIMS = WINDOW_CLAIMS | {"costed_revenue", "gross_profit", "gross_margin",
                                      "revenue_share"}
LINE_CLAIMS = RHYTHM_CLAIMS | LINE_WINDOW_CLAIMS | {"distinct_skus"}
# claims over a SKU's buyers
SKU_CLAIMS = frozenset({"sku_buyers", "sku_net_buyers", "median_buyer_spend", "co_buyers",
                        "customers"})
AMOUNT_CLAIMS = MONEY_CLAIMS | {"costed_revenue", "gross_profit", "median_buyer_spend",
                                "overdue_amount", "record_sum", "record_value", "sum_of"}
RATIO_CLAIMS = frozenset({"revenue_share", "gross_margin"})
EXACT_CLAIMS = COUNT_CLAIMS | {"sku_buyers", "sku_net_buyers", "co_buyers", "customers",
                               "overdue_invoices", "days_overdue_max", "record_count"}
UNCHECKED = frozenset({"model_output", "setting"})
RATIO_ABS_TOL = 1e-4  # the evidence keeps 4 decimals
HOURS_ABS_TOL = 0.01
RHYTHM_MIN_DAYS = 3  # DESIGN.md: a rhythm exists only with at least 3 purchase days
YEAR_DAYS = 365
MONEY_ABS_TOL = 0.01
MONEY_REL_TOL = 0.0005
# evidence fields that name the subject: their text is not a number the insight states
IDENTITY_KEYS = ("customer_id", "customer_name", "sku", "sku_name", "rep_id", "rep_name",
                 "group", "lead_id", "name", "driver_name", "driver_sku", "deal_id")
_FAR_PAST = dt.date(1, 1, 1)


# ------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Statement:
    """What one insight or explanation says: its English sentences and its claims.

    ``names`` are the subject's names and codes as they appear in the sentences (a customer
    called "16000" is not a number the insight states).
    """

    id: str
    kind: str
    subject: str
    sentences: tuple[str, ...]
    claims: tuple[Claim, ...]
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Disagreement:
    """One claim, word or number the raw lines do not support."""

    id: str
    kind: str
    subject: str
    claim: str
    stated: Any
    recomputed: Any
    sentence: str
    reason: str

    @property
    def type(self) -> str:
        if self.claim in ("no evidence", "unbacked number"):
            return self.claim
        return "words" if self.claim.startswith("words:") else "claim"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **{k: _json_safe(v) for k, v in self.__dict__.items()}}


@dataclass
class AuditReport:
    """Statements checked per kind, claims checked per name, and every disagreement."""

    statements: Counter[str] = field(default_factory=Counter)
    claims: Counter[str] = field(default_factory=Counter)
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def false_claims(self) -> int:
        return len(self.disagreements)

    def merge(self, other: AuditReport) -> AuditReport:
        self.statements.update(other.statements)
        self.claims.update(other.claims)
        self.disagreements.extend(other.disagreements)
        return self

    def by_reason(self) -> dict[str, int]:
        return dict(Counter(d.reason for d in self.disagreements).most_common())

    def by_type(self) -> dict[str, int]:
        """Disagreements by type: a false ``claim`` (recomputed otherwise, out of range or
        unreadable), ``words`` the claims do not support, an ``unbacked number``, or ``no
        evidence``."""
        out = dict.fromkeys(("claim", "words", "unbacked number", "no evidence"), 0)
        for d in self.disagreements:
            out[d.type] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (no NaN, dates as ISO text)."""
        out = {
            "statements_checked": sum(self.statements.values()),
            "statements_by_kind": dict(sorted(self.statements.items())),
            "claims_checked": sum(self.claims.values()),
            "claims_by_name": dict(sorted(self.claims.items())),
            "false_claims": self.false_claims,
            "false_by_type": self.by_type(),
            "false_by_reason": self.by_reason(),
            "disagreements": [d.to_dict() for d in self.disagreements],
        }
        json.dumps(out, allow_nan=False)  # strict JSON or an error here, not in a reader
        return out


def _json_safe(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


# ------------------------------------------------------------------------- statements
def insight_statement(insight: Any) -> Statement:
    """The statement of an :class:`~salesradar.insights.model.Insight` or a stored insight."""
    kind = str(getattr(insight.kind, "value", insight.kind))
    if hasattr(insight, "subject"):
        subject = f"{insight.subject.type}:{insight.subject.id}"
        sub_id = str(insight.subject.id)
    else:
        subject = f"{insight.subject_type}:{insight.subject_id}"
        sub_id = str(insight.subject_id)
    ident = getattr(insight, "id", None)
    evidence = dict(insight.evidence or {})
    claims = evidence.get("claims") or []
    names = [sub_id, *sub_id.split("/"), *_identity_names(evidence)]
    for c in claims if isinstance(claims, list) else []:
        if isinstance(c, dict):
            names += [str(c[k]) for k in ("customer_id", "sku", "with_sku", "rep_id", "lead_id")
                      if c.get(k)]
    return Statement(
        id=str(ident if ident is not None else getattr(insight, "dedup_key", subject)),
        kind=kind, subject=subject, sentences=(insight.en.what, insight.en.why),
        claims=tuple(claims) if isinstance(claims, list) else (),
        names=tuple(dict.fromkeys(n for n in names if n)),
    )


def _identity_names(evidence: Any) -> list[str]:
    """The names and codes of the subject and of what it groups (``items`` of a card), at any
    depth of the evidence (not inside its claims)."""
    out: list[str] = []
    if isinstance(evidence, dict):
        for k, v in evidence.items():
            if k in IDENTITY_KEYS and v not in (None, "") and not isinstance(v, dict | list):
                out.append(str(v))
            elif k != "claims" and isinstance(v, dict | list):
                out += _identity_names(v)
    elif isinstance(evidence, list):
        for v in evidence:
            out += _identity_names(v)
    return out


def explanation_statements(ws: Any, customer_ids: Iterable[str]) -> list[Statement]:
    """The churn explanation (``why`` and ``why_claims``) of each customer's 360 view.

    Customers without scores or with an empty explanation say nothing and are skipped.
    ``why_claims`` is either one list for all lines or one list per line.
    """
    from salesradar.errors import SalesradarError
    from salesradar.models.scoring import customer_view

    out = []
    for cid in dict.fromkeys(customer_ids):
        try:
            view = customer_view(ws, cid)
        except SalesradarError:
            continue
        why = [str(w) for w in view.get("why") or []]
        if not why:
            continue
        raw = view.get("why_claims") or []
        claims: list[Claim] = []
        for item in raw:
            if isinstance(item, dict):
                claims.append(item)
            elif isinstance(item, list):
                claims.extend(c for c in item if isinstance(c, dict))
        name = (view.get("customer") or {}).get("name")
        out.append(Statement(id=f"360:{cid}", kind="customer_360", subject=f"customer:{cid}",
                             sentences=tuple(why), claims=tuple(claims),
                             names=tuple(n for n in (cid, name) if n)))
    return out


def customers_named(statements: Iterable[Statement]) -> list[str]:
    """The customer ids the statements are about (subject and claims), in order."""
    out: dict[str, None] = {}
    for s in statements:
        kind, _, sub = s.subject.partition(":")
        if kind in ("customer", "customer_sku"):
            out[sub.split("/")[0]] = None
        for c in s.claims:
            if isinstance(c, dict) and c.get("customer_id"):
                out[str(c["customer_id"])] = None
    return list(out)


def audit_insights(ws: Any, insights: Iterable[Any], *, explanations: bool = True,
                   max_explanations: int | None = None) -> AuditReport:
    """Audit insights (generated or stored) and, when asked, the 360 explanations of the
    customers they name (at most ``max_explanations`` of them)."""
    statements = [insight_statement(i) for i in insights]
    if explanations:
        named = customers_named(statements)
        if max_explanations is not None:
            named = named[:max_explanations]
        statements += explanation_statements(ws, named)
    return audit(ws, statements)


# ------------------------------------------------------------------------ parsing claims
@dataclass
class _Parsed:
    cid: int
    owner: int  # index of the statement
    name: str
    raw: Claim
    nested: bool = False  # an input of a derived claim
    num: float | None = None
    day_value: dt.date | None = None
    flag: bool | None = None
    sid: int | None = None
    lo: dt.date | None = None
    hi: dt.date | None = None
    inputs: dict[str, int] | None = None


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _as_moment(value: Any, *, end: bool = False) -> dt.datetime | None:
    """An ISO date or date-time as a naive moment; a bare date is its first (or, with
    ``end``, its last) microsecond."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    if len(text) == 10 and end:
        moment += dt.timedelta(days=1, microseconds=-1)
    return moment


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _subject_key(c: Claim) -> tuple[str, tuple[str, ...], str | None]:
    """(how the subject selects lines, its ids, its SKU); no subject is every line."""
    sku = str(c["sku"]) if c.get("sku") not in (None, "") else None
    if c.get("customer_ids"):
        ids = c["customer_ids"]
        ids = ids if isinstance(ids, list | tuple) else [ids]
        return ("customers", tuple(sorted({str(i) for i in ids})), sku)
    if c.get("customer_id") not in (None, ""):
        return ("customers", (str(c["customer_id"]),), sku)
    if c.get("rep_id") not in (None, ""):
        return ("rep", (str(c["rep_id"]),), sku)
    if sku is not None:
        return ("sku", (), sku)
    return ("all", (), None)


_FAR_PAST_MOMENT = dt.datetime(1900, 1, 1)
_FAR_FUTURE_MOMENT = dt.datetime(9999, 12, 31)


# ------------------------------------------------------------------------------ the audit
class _Auditor:
    def __init__(self, ws: Any, statements: Sequence[Statement]) -> None:
        self.con = ws.con
        self.statements = statements
        self.report = AuditReport()
        self.parsed: list[_Parsed] = []
        self.recomputed: dict[int, dict[str, Any]] = {}
        self.subjects: dict[tuple[str, tuple[str, ...], str | None], int] = {}
        self.by_owner: dict[int, list[_Parsed]] = {}
        self.owners: list[int] = []  # the statement of each disagreement, to list them in order
        self.temp: list[str] = []
        row = self.con.execute("SELECT max(invoice_date)::DATE FROM invoice_lines").fetchone()
        self.data_day: dt.date = (row[0] if row and row[0] else None) or dt.date.today()

    # -- bookkeeping
    def disagree(self, owner: int, claim: str, stated: Any, recomputed: Any, sentence: str,
                 reason: str) -> None:
        s = self.statements[owner]
        self.owners.append(owner)
        self.report.disagreements.append(Disagreement(
            s.id, s.kind, s.subject, claim, _json_safe(stated), _json_safe(recomputed),
            sentence, reason))

    def sentence_for(self, owner: int) -> str:
        return " | ".join(self.statements[owner].sentences)

    def run(self) -> AuditReport:
        for owner, s in enumerate(self.statements):
            self.report.statements[s.kind] += 1
            if not s.claims:
                self.disagree(owner, "no evidence", None, None, self.sentence_for(owner),
                              "no evidence: the statement carries no claims")
            for raw in s.claims:
                self._parse(owner, raw)
        try:
            if any(p.sid is not None for p in self.parsed):
                self._load()
                self._rhythm()
                self._windows()
                self._distinct_skus()
                self._value_at_stake()
                self._revenue_totals()
            self._sku_buyers()
            self._co_buyers()
            self._sku_spend()
            self._customers()
            self._payments()
            self._leads()
            self._records()
        finally:
            for name in self.temp:
                self.con.execute(f"DROP TABLE IF EXISTS {name}")
        for p in self.parsed:
            self._compare(p)
        self._offers()
        for owner in range(len(self.statements)):
            self._words(owner)
            self._numbers(owner)
        order = sorted(range(len(self.owners)), key=self.owners.__getitem__)
        self.report.disagreements = [self.report.disagreements[i] for i in order]
        return self.report

    def _parse(self, owner: int, raw: Any, nested: bool = False) -> int | None:
        """Read one claim (and the inputs of a derived one); its index, or None when it
        cannot be read (a disagreement then says why)."""
        sentence = self.sentence_for(owner)
        if not isinstance(raw, dict) or "claim" not in raw:
            self.disagree(owner, "?", raw, None, sentence, "unreadable claim: not a claim dict")
            return None
        name = str(raw["claim"])
        self.report.claims[name] += 1
        if name not in CLAIMS:
            self.disagree(owner, name, raw.get("value"), None, sentence, "unknown claim name")
            return None
        p = _Parsed(len(self.parsed), owner, name, raw, nested)
        value = raw.get("value")
        if name in UNCHECKED:
            self.parsed.append(p)
            return p.cid
        if name in DAY_CLAIMS:
            p.day_value = _as_date(value)
            ok = p.day_value is not None
        elif name == "past_rhythm":
            p.flag = value if isinstance(value, bool) else None
            ok = p.flag is not None
        else:
            p.num = _as_number(value)
            ok = p.num is not None
        if not ok:
            self.disagree(owner, name, value, None, sentence, "unreadable claim: bad value")
            return None
        if name == "sales_on_day" and _as_date(raw.get("day")) is None:
            self.disagree(owner, name, value, None, sentence,
                          "unreadable claim: sales_on_day without a day")
            return None
        self.parsed.append(p)
        if name in LINE_CLAIMS:
            p.sid = self.subjects.setdefault(_subject_key(raw), len(self.subjects))
            p.hi = _as_date(raw.get("to")) or self.data_day
            if name == "sales_on_day":
                p.lo = p.hi = _as_date(raw.get("day"))
            else:
                p.lo = _as_date(raw.get("from")) or _FAR_PAST
        elif name == "derived":
            inputs, formula = raw.get("inputs"), raw.get("formula")
            if not isinstance(inputs, dict) or not isinstance(formula, str):
                self.disagree(owner, name, value, None, sentence,
                              "unreadable claim: derived without a formula and inputs")
                return p.cid
            parsed = {str(k): self._parse(owner, v, nested=True) for k, v in inputs.items()}
            p.inputs = {k: v for k, v in parsed.items() if v is not None}
            if len(p.inputs) < len(parsed):
                p.inputs = None  # an input could not be read: reported already
        return p.cid

    # -- relations
    def _relation(self, name: str, columns: dict[str, pa.Array]) -> None:
        """A temporary table ``name`` from arrow columns (dropped when the audit ends)."""
        self.con.register(f"{name}_in", pa.table(columns))
        try:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS "  # noqa: S608 - ours
                             f"SELECT * FROM {name}_in")
        finally:
            self.con.unregister(f"{name}_in")
        self.temp.append(name)

    def _claims_named(self, *names: str) -> list[_Parsed]:
        return [p for p in self.parsed if p.name in names]

    # -- loading: claims and the lines of their subjects, once
    def _load(self) -> None:
        rows = [p for p in self.parsed if p.sid is not None]
        self._relation("_audit_claims", {
            "cid": pa.array([p.cid for p in rows], pa.int64()),
            "name": pa.array([p.name for p in rows], pa.string()),
            "sid": pa.array([p.sid for p in rows], pa.int64()),
            "lo": pa.array([p.lo for p in rows], pa.date32()),
            "hi": pa.array([p.hi for p in rows], pa.date32()),
        })
        members: dict[str, list[Any]] = {"sid": [], "how": [], "id": [], "sku": []}
        for (how, ids, sku), sid in self.subjects.items():
            for i in ids or (None,):
                members["sid"].append(sid)
                members["how"].append(how)
                members["id"].append(i)
                members["sku"].append(sku)
        self._relation("_audit_members", {
            "sid": pa.array(members["sid"], pa.int64()),
            "how": pa.array(members["how"], pa.string()),
            "id": pa.array(members["id"], pa.string()),
            "sku": pa.array(members["sku"], pa.string()),
        })
        # every line of every subject: by customer(s), optionally one SKU; by rep; by SKU;
        # every line
        self.con.execute("""
            CREATE OR REPLACE TEMP TABLE _audit_lines AS
            WITH l AS (SELECT customer_id::VARCHAR AS customer_id, sku::VARCHAR AS sku,
                              rep_id::VARCHAR AS rep_id, invoice_date::DATE AS day,
                              net_revenue::DECIMAL(38, 4) AS net, cost::DECIMAL(38, 4) AS cost
                       FROM invoice_lines)
            SELECT m.sid, l.day, l.sku, l.net, l.cost FROM l JOIN _audit_members m
              ON m.how = 'customers' AND m.sku IS NULL AND l.customer_id = m.id
            UNION ALL
            SELECT m.sid, l.day, l.sku, l.net, l.cost FROM l JOIN _audit_members m
              ON m.how = 'customers' AND l.customer_id = m.id AND l.sku = m.sku
            UNION ALL
            SELECT m.sid, l.day, l.sku, l.net, l.cost FROM l JOIN _audit_members m
              ON m.how = 'rep' AND l.rep_id = m.id AND (m.sku IS NULL OR l.sku = m.sku)
            UNION ALL
            SELECT m.sid, l.day, l.sku, l.net, l.cost FROM l JOIN _audit_members m
              ON m.how = 'sku' AND l.sku = m.sku
            UNION ALL
            SELECT m.sid, l.day, l.sku, l.net, l.cost
            FROM l, (SELECT sid FROM _audit_members WHERE how = 'all') m""")
        self.temp.append("_audit_lines")
        # a subject's day: gross sales (positive lines), returns (minus the negative lines),
        # net, and the revenue and cost of the lines whose cost is known; a purchase day is a
        # day with gross sales above zero
        self.con.execute("""
            CREATE OR REPLACE TEMP TABLE _audit_days AS
            SELECT sid, day,
                   coalesce(sum(net) FILTER (WHERE net > 0), 0) AS gross,
                   coalesce(-sum(net) FILTER (WHERE net < 0), 0) AS returned,
                   coalesce(sum(net), 0) AS net,
                   coalesce(sum(net) FILTER (WHERE cost IS NOT NULL), 0) AS costed,
                   coalesce(sum(cost) FILTER (WHERE cost IS NOT NULL), 0) AS cost
            FROM _audit_lines GROUP BY sid, day""")
        self.temp.append("_audit_days")

    def _fetch(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (
            self.con.execute(sql, list(params)).to_arrow_table().to_pylist())
        return rows

    def _store(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            self.recomputed.setdefault(int(r.pop("cid")), {}).update(r)

    # -- the families over the subjects' lines, one query each
    def _rhythm(self) -> None:
        """Purchase days, first/previous/last purchase day and the median gap on or before
        ``to``, per distinct (subject, to)."""
        names = sorted(RHYTHM_CLAIMS)
        self.con.execute("""
            CREATE OR REPLACE TEMP TABLE _audit_rhythm AS
            WITH k AS (SELECT DISTINCT sid, hi FROM _audit_claims
                       WHERE list_contains(?::VARCHAR[], name)),
            p AS (SELECT k.sid, k.hi, d.day,
                         d.day - lag(d.day) OVER (PARTITION BY k.sid, k.hi ORDER BY d.day)
                           AS gap
                  FROM k JOIN _audit_days d ON d.sid = k.sid AND d.day <= k.hi
                  WHERE d.gross > 0)
            SELECT k.sid, k.hi, count(p.day) AS n, min(p.day) AS first_day,
                   max(p.day) AS last_day,
                   (list(p.day ORDER BY p.day DESC) FILTER (WHERE p.day IS NOT NULL))[2]
                     AS previous_day,
                   median(p.gap)::DOUBLE AS median_gap, max(p.gap)::DOUBLE AS longest_gap
            FROM k LEFT JOIN p ON p.sid = k.sid AND p.hi = k.hi
            GROUP BY k.sid, k.hi""", [names])
        self.temp.append("_audit_rhythm")
        self._store(self._fetch("""
            SELECT c.cid, r.n, r.first_day, r.last_day, r.previous_day, r.median_gap,
                   r.longest_gap, c.hi - r.last_day AS days_since
            FROM _audit_claims c JOIN _audit_rhythm r ON r.sid = c.sid AND r.hi = c.hi
            WHERE list_contains(?::VARCHAR[], c.name)""", names))

    def _windows(self) -> None:
        """Net revenue, gross sales, returns, purchase days and the costed revenue and cost in
        [from, to]."""
        names = sorted(LINE_WINDOW_CLAIMS)
        self._store(self._fetch("""
            WITH k AS (SELECT DISTINCT sid, lo, hi FROM _audit_claims
                       WHERE list_contains(?::VARCHAR[], name)),
            s AS (SELECT k.sid, k.lo, k.hi, coalesce(sum(d.net), 0)::DOUBLE AS net,
                         coalesce(sum(d.gross), 0)::DOUBLE AS gross,
                         coalesce(sum(d.returned), 0)::DOUBLE AS returned,
                         count(d.day) FILTER (WHERE d.gross > 0) AS days_in,
                         coalesce(sum(d.costed), 0)::DOUBLE AS costed,
                         coalesce(sum(d.cost), 0)::DOUBLE AS cost
                  FROM k LEFT JOIN _audit_days d
                    ON d.sid = k.sid AND d.day >= k.lo AND d.day <= k.hi
                  GROUP BY k.sid, k.lo, k.hi)
            SELECT c.cid, s.net, s.gross, s.returned, s.days_in, s.costed, s.cost
            FROM _audit_claims c JOIN s ON s.sid = c.sid AND s.lo = c.lo AND s.hi = c.hi
            WHERE list_contains(?::VARCHAR[], c.name)""", names, names))

    def _revenue_totals(self) -> None:
        """Every line's net revenue in [from, to], for the revenue shares."""
        self._store(self._fetch("""
            WITH k AS (SELECT DISTINCT lo, hi FROM _audit_claims WHERE name = 'revenue_share'),
            t AS (SELECT k.lo, k.hi, coalesce(sum(l.net_revenue), 0)::DOUBLE AS total
                  FROM k LEFT JOIN invoice_lines l
                    ON l.invoice_date::DATE >= k.lo AND l.invoice_date::DATE <= k.hi
                  GROUP BY k.lo, k.hi)
            SELECT c.cid, t.total FROM _audit_claims c JOIN t ON t.lo = c.lo AND t.hi = c.hi
            WHERE c.name = 'revenue_share'"""))

    def _distinct_skus(self) -> None:
        """SKUs with a positive line in [from, to]."""
        self._store(self._fetch("""
            WITH k AS (SELECT DISTINCT sid, lo, hi FROM _audit_claims
                       WHERE name = 'distinct_skus'),
            s AS (SELECT k.sid, k.lo, k.hi, count(DISTINCT l.sku) AS skus
                  FROM k LEFT JOIN _audit_lines l
                    ON l.sid = k.sid AND l.day >= k.lo AND l.day <= k.hi AND l.net > 0
                  GROUP BY k.sid, k.lo, k.hi)
            SELECT c.cid, s.skus
            FROM _audit_claims c JOIN s ON s.sid = c.sid AND s.lo = c.lo AND s.hi = c.hi
            WHERE c.name = 'distinct_skus'"""))

    def _value_at_stake(self) -> None:
        """Net revenue (floored at 0) and gross sales of the lines dated in
        (last purchase day − 365 days, to]."""
        self._store(self._fetch("""
            WITH k AS (SELECT DISTINCT c.sid, c.hi, r.last_day FROM _audit_claims c
                       JOIN _audit_rhythm r ON r.sid = c.sid AND r.hi = c.hi
                       WHERE c.name = 'value_at_stake'),
            s AS (SELECT k.sid, k.hi, coalesce(sum(d.net), 0)::DOUBLE AS year_net,
                         coalesce(sum(d.gross), 0)::DOUBLE AS year_gross
                  FROM k LEFT JOIN _audit_days d
                    ON d.sid = k.sid AND d.day > k.last_day - ?::INTEGER
                   AND d.day <= k.hi
                  GROUP BY k.sid, k.hi)
            SELECT c.cid, greatest(s.year_net, 0) AS value, s.year_gross
            FROM _audit_claims c JOIN s ON s.sid = c.sid AND s.hi = c.hi
            WHERE c.name = 'value_at_stake'""", YEAR_DAYS))

    # -- the families over a SKU's buyers (cross-sell reasons), one query each
    def _keys(self, name: str, claims: list[_Parsed], **columns: Any) -> None:
        cols: dict[str, pa.Array] = {"cid": pa.array([p.cid for p in claims], pa.int64())}
        for col, (kind, get) in columns.items():
            cols[col] = pa.array([get(p) for p in claims], kind)
        self._relation(name, cols)

    def _sku_buyers(self) -> None:
        """Customers with a line of ``sku`` (quantity and net revenue > 0) on or before ``to``."""
        claims = self._claims_named("sku_buyers")
        if not claims:
            return
        self._keys("_audit_k_buyers", claims,
                   sku=(pa.string(), lambda p: str(p.raw.get("sku"))),
                   hi=(pa.date32(), lambda p: _as_date(p.raw.get("to")) or self.data_day))
        self._store(self._fetch("""
            SELECT k.cid, count(DISTINCT l.customer_id) AS value
            FROM _audit_k_buyers k LEFT JOIN invoice_lines l
              ON l.sku::VARCHAR = k.sku AND l.invoice_date::DATE <= k.hi
             AND l.quantity > 0 AND l.net_revenue > 0
            GROUP BY k.cid"""))

    def _co_buyers(self) -> None:
        """Customers who bought both ``sku`` and ``with_sku`` (as :meth:`_sku_buyers`)."""
        claims = self._claims_named("co_buyers")
        if not claims:
            return
        self._keys("_audit_k_co", claims,
                   sku=(pa.string(), lambda p: str(p.raw.get("sku"))),
                   with_sku=(pa.string(), lambda p: str(p.raw.get("with_sku"))),
                   hi=(pa.date32(), lambda p: _as_date(p.raw.get("to")) or self.data_day))
        self._store(self._fetch("""
            WITH l AS (SELECT DISTINCT customer_id::VARCHAR AS customer_id, sku::VARCHAR AS sku,
                              min(invoice_date::DATE) OVER (
                                  PARTITION BY customer_id, sku) AS first_day
                       FROM invoice_lines WHERE quantity > 0 AND net_revenue > 0),
            a AS (SELECT k.cid, l.customer_id FROM _audit_k_co k
                  JOIN l ON l.sku = k.sku AND l.first_day <= k.hi),
            b AS (SELECT k.cid, l.customer_id FROM _audit_k_co k
                  JOIN l ON l.sku = k.with_sku AND l.first_day <= k.hi),
            ab AS (SELECT a.cid, a.customer_id FROM a JOIN b USING (cid, customer_id))
            SELECT k.cid, count(ab.customer_id) AS value
            FROM _audit_k_co k LEFT JOIN ab ON ab.cid = k.cid GROUP BY k.cid"""))

    def _sku_spend(self) -> None:
        """Customers whose net revenue on ``sku`` over [from, to] is above 0, and the median
        of that net revenue over them."""
        claims = self._claims_named("sku_net_buyers", "median_buyer_spend")
        if not claims:
            return
        self._keys("_audit_k_spend", claims,
                   sku=(pa.string(), lambda p: str(p.raw.get("sku"))),
                   lo=(pa.date32(), lambda p: _as_date(p.raw.get("from")) or _FAR_PAST),
                   hi=(pa.date32(), lambda p: _as_date(p.raw.get("to")) or self.data_day))
        self._store(self._fetch("""
            WITH s AS (SELECT k.cid, l.customer_id, sum(l.net_revenue)::DOUBLE AS spend
                       FROM _audit_k_spend k JOIN invoice_lines l
                         ON l.sku::VARCHAR = k.sku AND l.invoice_date::DATE >= k.lo
                        AND l.invoice_date::DATE <= k.hi
                       GROUP BY k.cid, l.customer_id)
            SELECT k.cid, count(s.customer_id) FILTER (WHERE s.spend > 0) AS buyers,
                   median(s.spend) FILTER (WHERE s.spend > 0) AS median_spend
            FROM _audit_k_spend k LEFT JOIN s ON s.cid = k.cid GROUP BY k.cid"""))

    def _customers(self) -> None:
        """Customers with a line (quantity and net revenue > 0) on or before ``to`` of a SKU not
        in ``exclude_skus``."""
        claims = self._claims_named("customers")
        if not claims:
            return
        self._keys("_audit_k_customers", claims,
                   hi=(pa.date32(), lambda p: _as_date(p.raw.get("to")) or self.data_day),
                   exclude=(pa.list_(pa.string()),
                            lambda p: [str(s) for s in p.raw.get("exclude_skus") or []]))
        self._store(self._fetch("""
            WITH k AS (SELECT DISTINCT hi, exclude FROM _audit_k_customers),
            n AS (SELECT k.hi, k.exclude, count(DISTINCT l.customer_id) AS value
                  FROM k LEFT JOIN invoice_lines l
                    ON l.invoice_date::DATE <= k.hi AND l.quantity > 0 AND l.net_revenue > 0
                   AND NOT list_contains(k.exclude, l.sku::VARCHAR)
                  GROUP BY k.hi, k.exclude)
            SELECT c.cid, n.value FROM _audit_k_customers c
            JOIN n ON n.hi = c.hi AND n.exclude = c.exclude"""))

    # -- payments, leads and other records
    def _payments(self) -> None:
        """The customer's payments due before ``to`` and not paid by it: amount, number and
        ``to`` − the oldest due date."""
        claims = self._claims_named("overdue_amount", "overdue_invoices", "days_overdue_max")
        if not claims:
            return
        self._keys("_audit_k_pay", claims,
                   customer_id=(pa.string(), lambda p: str(p.raw.get("customer_id"))),
                   hi=(pa.date32(), lambda p: _as_date(p.raw.get("to")) or self.data_day))
        self._store(self._fetch("""
            SELECT k.cid, coalesce(sum(p.amount), 0)::DOUBLE AS amount,
                   count(p.due_date) AS invoices, k.hi - min(p.due_date::DATE) AS days
            FROM _audit_k_pay k LEFT JOIN payments p
              ON p.customer_id::VARCHAR = k.customer_id AND p.due_date::DATE < k.hi
             AND (p.paid_date IS NULL OR p.paid_date::DATE > k.hi)
            GROUP BY k.cid, k.hi"""))

    def _leads(self) -> None:
        """Hours from the lead's ``created_at`` to ``at``."""
        claims = self._claims_named("lead_age_hours")
        if not claims:
            return
        self._keys("_audit_k_leads", claims,
                   lead_id=(pa.string(), lambda p: str(p.raw.get("lead_id"))),
                   at=(pa.timestamp("us"), lambda p: _as_moment(p.raw.get("at"))))
        self._store(self._fetch("""
            SELECT k.cid, max(date_diff('microsecond', l.created_at::TIMESTAMP, k.at))
                          / 3.6e9 AS value
            FROM _audit_k_leads k LEFT JOIN leads l ON l.lead_id::VARCHAR = k.lead_id
            GROUP BY k.cid"""))

    def _columns(self, table: str) -> dict[str, str]:
        rows = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = 'main'", [table]).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def _records(self) -> None:
        """Rows of a canonical table whose columns equal ``where`` (and whose date column is
        in [from, to]): their number, the sum of a column, or its value in the one row; one
        query per shape of claim (table, columns compared, column, date column)."""
        from salesradar.schema import TABLES

        groups: dict[tuple[str, tuple[str, ...], str, str], list[_Parsed]] = {}
        for p in self._claims_named("record_count", "record_sum", "record_value"):
            table, where = str(p.raw.get("table")), p.raw.get("where") or {}
            column, date_col = p.raw.get("column"), p.raw.get("date_column")
            columns = self._columns(table) if table in TABLES else {}
            wanted = [*where, *([column] if column else []), *([date_col] if date_col else [])]
            if not isinstance(where, dict) or not columns or any(
                    c not in columns for c in wanted) or (
                    p.name != "record_count" and not column):
                self.recomputed[p.cid] = {"unreadable": f"no table {table!r} with columns "
                                                        f"{wanted}"}
                continue
            key = (table, tuple(sorted(where)), str(column or ""), str(date_col or ""))
            groups.setdefault(key, []).append(p)
        for n, ((table, keys, column, date_col), claims) in enumerate(groups.items()):
            types = self._columns(table)
            name = f"_audit_k_rec{n}"
            cols: dict[str, Any] = {
                f"w{i}": (pa.string(), lambda p, k=k: None if p.raw["where"][k] is None
                          else str(p.raw["where"][k]))
                for i, k in enumerate(keys)}
            cols["lo"] = (pa.timestamp("us"), lambda p: _as_moment(p.raw.get("from"))
                          or _FAR_PAST_MOMENT)
            cols["hi"] = (pa.timestamp("us"), lambda p: _as_moment(p.raw.get("to"), end=True)
                          or _FAR_FUTURE_MOMENT)
            self._keys(name, claims, **cols)
            on = [f"t.{quote(k)} IS NOT DISTINCT FROM TRY_CAST(k.w{i} AS {types[k]})"
                  for i, k in enumerate(keys)]
            if date_col:
                on.append(f"t.{quote(date_col)}::TIMESTAMP BETWEEN k.lo AND k.hi")
            value = f"t.{quote(column)}" if column else "NULL"
            self._store(self._fetch(f"""
                SELECT k.cid, count(t.__one) AS rows, sum({value})::DOUBLE AS total,
                       max({value})::DOUBLE AS one
                FROM {name} k LEFT JOIN (SELECT *, 1 AS __one FROM {quote(table)}) t
                  ON {" AND ".join(on) or "TRUE"}
                GROUP BY k.cid"""))  # noqa: S608 - names checked against the schema

    # -- recomputed values
    def _got(self, p: _Parsed) -> Any:
        """The value the lines give for claim ``p`` (None when they give none)."""
        r = self.recomputed.get(p.cid, {})
        name = p.name
        simple = {
            "purchase_days": int(r.get("n") or 0), "first_purchase_day": r.get("first_day"),
            "last_purchase_day": r.get("last_day"),
            "previous_purchase_day": r.get("previous_day"),
            "days_since_last_purchase": r.get("days_since"),
            "median_gap_days": r.get("median_gap"), "longest_gap_days": r.get("longest_gap"),
            "value_at_stake": r.get("value"),
            "net_revenue": r.get("net"), "gross_sales": r.get("gross"),
            "sales_on_day": r.get("gross"), "returned": r.get("returned"),
            "purchase_days_in": r.get("days_in"), "distinct_skus": r.get("skus"),
            "costed_revenue": r.get("costed"), "sku_buyers": r.get("value"),
            "co_buyers": r.get("value"), "customers": r.get("value"),
            "sku_net_buyers": r.get("buyers"), "median_buyer_spend": r.get("median_spend"),
            "overdue_amount": r.get("amount"), "overdue_invoices": r.get("invoices"),
            "days_overdue_max": r.get("days"), "lead_age_hours": r.get("value"),
            "record_count": r.get("rows"), "record_sum": r.get("total") or 0.0,
        }
        if name in simple:
            return simple[name]
        if name == "past_rhythm":
            return self._past_true(p)
        if name == "gross_profit":
            costed, cost = r.get("costed"), r.get("cost")
            return None if costed is None or cost is None else costed - cost
        if name == "gross_margin":
            costed, cost = r.get("costed"), r.get("cost")
            return (costed - cost) / costed if costed else None
        if name == "revenue_share":
            net, total = r.get("net"), r.get("total")
            return net / total if net is not None and total else None
        if name == "record_value":
            return r.get("one") if r.get("rows") == 1 else None
        if name == "sum_of":
            of = str(p.raw.get("of"))
            return sum(q.num or 0.0 for q in self._mine(p.owner)
                       if q.name == of and not q.nested)
        if name == "derived" and p.inputs is not None:
            env = {k: self._got(self.parsed[c]) for k, c in p.inputs.items()}
            return _evaluate(str(p.raw.get("formula")), env)
        return None

    # -- comparing
    def _compare(self, p: _Parsed) -> None:
        stated = p.raw.get("value")
        sentence = self.sentence_for(p.owner)
        if p.name in UNCHECKED:
            problem = _range_problem(p.raw)
            if problem:
                self.disagree(p.owner, p.name, stated, None, sentence, problem)
            return
        r = self.recomputed.get(p.cid, {})
        if "unreadable" in r:
            self.disagree(p.owner, p.name, stated, None, sentence,
                          f"unreadable claim: {r['unreadable']}")
            return
        got = self._got(p)
        n = int(r.get("n") or 0)
        if p.name in ("median_gap_days", "longest_gap_days") and n < RHYTHM_MIN_DAYS:
            self.disagree(p.owner, p.name, stated, f"{n} purchase day(s)", sentence,
                          f"rhythm stated with {n} purchase day(s) (needs {RHYTHM_MIN_DAYS})")
            return
        if p.name == "past_rhythm" and p.flag != got:
            med, since = r.get("median_gap"), r.get("days_since")
            self.disagree(p.owner, p.name, stated, got, sentence,
                          f"past_rhythm is {got}: {since} days since the last purchase day "
                          f"vs a median gap of {med} over {n} purchase day(s)")
            return
        if p.name == "value_at_stake":
            gross = r.get("year_gross")
            if p.num is not None and gross is not None and p.num > gross + _money_tol(gross):
                self.disagree(p.owner, p.name, stated, got, sentence,
                              f"value at stake above what the subject bought in that year "
                              f"({gross:,.2f})")
                return
        if p.name == "record_value" and r.get("rows") != 1:
            self.disagree(p.owner, p.name, stated, None, sentence,
                          f"record_value: {r.get('rows')} rows match, not one")
            return
        if p.name == "derived" and p.inputs is None:
            return  # an input could not be read: reported already
        if not _agrees(p, got):
            what = "its inputs" if p.name == "derived" else "the records"
            source = "the invoice lines" if p.name in LINE_CLAIMS | SKU_CLAIMS else what
            self.disagree(p.owner, p.name, stated, got, sentence,
                          f"{p.name} does not match {source}")

    # -- words
    def _offers(self) -> None:
        """An offer ("Offer X to C") says C does not buy X: C must have no sale of X on or
        before the data day."""
        offers = [(owner, *s.subject.partition(":")[2].split("/", 1))
                  for owner, s in enumerate(self.statements)
                  if s.kind == "cross_sell" and s.subject.startswith("customer_sku:")
                  and "/" in s.subject]
        if not offers:
            return
        self._relation("_audit_k_offers", {
            "owner": pa.array([o[0] for o in offers], pa.int64()),
            "customer_id": pa.array([o[1] for o in offers], pa.string()),
            "sku": pa.array([o[2] for o in offers], pa.string())})
        rows = self._fetch("""
                SELECT k.owner, k.sku, max(l.invoice_date::DATE) AS last_day
                FROM _audit_k_offers k JOIN invoice_lines l
                  ON l.customer_id::VARCHAR = k.customer_id AND l.sku::VARCHAR = k.sku
                 AND l.quantity > 0 AND l.net_revenue > 0 AND l.invoice_date::DATE <= ?
                GROUP BY k.owner, k.sku ORDER BY k.owner""", self.data_day)
        self.con.execute("DROP TABLE IF EXISTS _audit_k_offers")
        for r in rows:
            owner = int(r["owner"])
            self.disagree(owner, "words: offer", f"Offer {r['sku']}",
                          f"bought it on {r['last_day']}", self.sentence_for(owner),
                          "offered an item the customer already buys")

    def _mine(self, owner: int) -> list[_Parsed]:
        if not self.by_owner:
            for p in self.parsed:
                self.by_owner.setdefault(p.owner, []).append(p)
        return self.by_owner.get(owner, [])

    def _words(self, owner: int) -> None:
        s = self.statements[owner]
        if not s.claims:
            return  # already a "no evidence" disagreement
        mine = self._mine(owner)
        for sentence in s.sentences:
            low = sentence.lower()
            for m in _RHYTHM_WORDS.finditer(low):
                n_text = m.group(1)
                ok = False
                for p in mine:
                    r = self.recomputed.get(p.cid, {})
                    if p.name != "median_gap_days" or int(r.get("n") or 0) < RHYTHM_MIN_DAYS:
                        continue
                    med = r.get("median_gap")
                    if med is None:
                        continue
                    ok = n_text is None or int(n_text.replace(",", "")) in _roundings(med)
                    if ok:
                        break
                if not ok:
                    self.disagree(owner, "words: rhythm", m.group(0), _medians(self, mine),
                                  sentence, "a rhythm in words without a median gap over "
                                  f"{RHYTHM_MIN_DAYS}+ purchase days that rounds to it")
            # per longest gap claimed: is the silence longer (None without 3+ purchase days)
            longest = [self._beyond_longest(p) for p in mine if p.name == "longest_gap_days"]
            drift = _DRIFT_WORDS.search(low)
            if drift:
                past = [p for p in mine if p.name == "past_rhythm"]
                if not any(p.flag is True and self._past_true(p) for p in past):
                    self.disagree(owner, "words: past rhythm", drift.group(0),
                                  [self._past_true(p) for p in past] or "no past_rhythm claim",
                                  sentence, "'drifting'/'stopped' without a true past_rhythm "
                                  "claim")
                elif drift.group(0) != "past its rhythm" and False in longest:
                    self.disagree(owner, "words: past rhythm", drift.group(0),
                                  "paused longer before", sentence,
                                  "'drifting'/'stopped' for a silence it came back from before")
            for phrase, beyond in (("before and came back", False),
                                   ("longest pause before was", True),
                                   ("longer than any before", True)):
                # "each gap ... longer than any before" (a card of items): every one of them
                if phrase in low and not (longest and all(b is beyond for b in longest)
                                          if beyond else beyond in longest):
                    self.disagree(owner, "words: longest pause", phrase,
                                  longest or "no longest_gap_days claim", sentence,
                                  f"'{phrase}' where the days since the last purchase day are "
                                  f"{'not ' if beyond else ''}longer than the longest gap")
            if "within its rhythm" in low and not any(
                    p.name == "past_rhythm" and p.flag is False and self._within(p)
                    for p in mine):
                self.disagree(owner, "words: within rhythm", "within its rhythm",
                              [self._past_true(p) for p in mine if p.name == "past_rhythm"]
                              or "no past_rhythm claim", sentence,
                              "'within its rhythm' without a false past_rhythm claim over "
                              f"{RHYTHM_MIN_DAYS}+ purchase days")
            for word, count in (("bought once", 1), ("bought twice", 2)):
                if word in low and not any(
                        p.name == "purchase_days" and p.num == count
                        and int(self.recomputed.get(p.cid, {}).get("n") or 0) == count
                        for p in mine):
                    self.disagree(owner, f"words: {word}", word,
                                  [self.recomputed.get(p.cid, {}).get("n") for p in mine
                                   if p.name == "purchase_days"] or "no purchase_days claim",
                                  sentence, f"'{word}' without purchase_days {count}")

    def _within(self, p: _Parsed) -> bool:
        r = self.recomputed.get(p.cid, {})
        n, med, since = int(r.get("n") or 0), r.get("median_gap"), r.get("days_since")
        return bool(n >= RHYTHM_MIN_DAYS and med is not None and since is not None
                    and since <= med)

    def _beyond_longest(self, p: _Parsed) -> bool | None:
        """Whether the days since the last purchase day exceed the longest gap between
        purchase days (None without 3+ purchase days)."""
        r = self.recomputed.get(p.cid, {})
        n, longest, since = int(r.get("n") or 0), r.get("longest_gap"), r.get("days_since")
        if n < RHYTHM_MIN_DAYS or longest is None or since is None:
            return None
        return bool(since > longest)

    def _past_true(self, p: _Parsed) -> bool:
        r = self.recomputed.get(p.cid, {})
        n, med, since = int(r.get("n") or 0), r.get("median_gap"), r.get("days_since")
        return bool(n >= RHYTHM_MIN_DAYS and med is not None and since is not None
                    and since > med)

    # -- numbers
    def _numbers(self, owner: int) -> None:
        s = self.statements[owner]
        if not s.claims:
            return  # already a "no evidence" disagreement
        backing = _Backing.of(s.claims)
        for sentence in s.sentences:
            text = _strip_names(sentence, s.names)
            for token, problem in _unbacked(text, backing):
                self.disagree(owner, "unbacked number", token, problem, sentence,
                              "unbacked number: no claim states it")


def _medians(auditor: _Auditor, mine: list[_Parsed]) -> Any:
    out = [(auditor.recomputed.get(p.cid, {}).get("median_gap"),
            auditor.recomputed.get(p.cid, {}).get("n")) for p in mine
           if p.name == "median_gap_days"]
    return [{"median_gap": m, "purchase_days": n} for m, n in out] or "no median_gap_days claim"


def _money_tol(reference: float) -> float:
    return max(MONEY_ABS_TOL, MONEY_REL_TOL * abs(reference)) + 1e-9


def _money_ok(stated: float, recomputed: float) -> bool:
    return abs(stated - recomputed) <= _money_tol(recomputed)


def _range_problem(raw: Claim) -> str | None:
    value = raw.get("value")
    if raw["claim"] == "setting":
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "setting without a value"
        return None
    number = _as_number(value)
    if number is None:
        return "model output is not a finite number"
    lo, hi = _as_number(raw.get("min")), _as_number(raw.get("max"))
    label = " ".join(str(raw.get(k, "")) for k in ("model", "output", "of", "what")).lower()
    if lo is None and hi is None and ("prob" in label or "p_" in label):
        lo, hi = 0.0, 1.0
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        return f"model output outside [{lo}, {hi}]"
    return None


def _roundings(value: float) -> set[int]:
    """The integers a text may show for ``value``: half-even (Python's format) or half-up."""
    return {round(value), math.floor(value + 0.5)}


def _agrees(p: _Parsed, got: Any) -> bool:
    """Whether the stated value of ``p`` agrees with the recomputed ``got`` (money to 0.01 or
    0.05%, ratios to 0.0001 or 0.05%, days, counts and medians exactly)."""
    if got is None:
        return False
    if p.name == "past_rhythm":
        return bool(p.flag == got)
    if p.name in DAY_CLAIMS:
        return bool(p.day_value == got)
    if p.num is None or isinstance(got, bool | dt.date):
        return False
    if p.name in EXACT_CLAIMS:
        return bool(p.num == got)
    if p.name in ("median_gap_days", "longest_gap_days"):
        return bool(abs(p.num - got) < 1e-9)
    if p.name in AMOUNT_CLAIMS:
        return _money_ok(p.num, float(got))
    if p.name == "lead_age_hours":
        return bool(abs(p.num - got) <= HOURS_ABS_TOL)
    # ratios and derived values
    return bool(abs(p.num - got) <= max(RATIO_ABS_TOL, MONEY_REL_TOL * abs(got)) + 1e-9)


_OPERATORS: dict[type, Any] = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
}


def _evaluate(formula: str, env: dict[str, Any]) -> float | None:
    """``formula`` (+ − × ÷, unary minus, numbers, ``max``/``min`` and the names of ``env``)
    with ``env``'s values; None when it is not such a formula, a value is missing or it
    divides by zero.

    >>> _evaluate("max(a / 2 * 3, 0.5 * b) - -1", {"a": 4.0, "b": 10.0})
    7.0
    """
    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
                and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            value = env[node.id]
            if value is None or isinstance(value, bool | dt.date):
                raise ValueError(node.id)
            return float(value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = walk(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            result: float = _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
            return result
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("max", "min") and node.args and not node.keywords:
            values = [walk(a) for a in node.args]
            return max(values) if node.func.id == "max" else min(values)
        raise ValueError(ast.dump(node))

    try:
        value = walk(ast.parse(formula, mode="eval"))
    except (SyntaxError, ValueError, KeyError, ZeroDivisionError):
        return None
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------- numbers in text
_RHYTHM_WORDS = re.compile(
    r"(?:order(?:s|ed)?\s+)?every\s+~\s*(\d[\d,]*)\s*days?|order(?:s|ed)?\s+every")
_DRIFT_WORDS = re.compile(r"\bdrifting\b|stopped ordering|has stopped|past its rhythm")
_TOKENS = re.compile(
    r"(?P<dmy>\b\d{1,2}/\d{1,2}/\d{4}\b)"
    r"|(?P<iso>\b\d{4}-\d{2}-\d{2}\b)"
    r"|(?P<month>\b\d{4}-\d{2}\b)"
    r"|(?P<my>\b\d{1,2}/\d{4}\b)"
    rf"|(?P<money>-?{SIGN_PATTERN}\s?-?\d[\d,]*(?:\.\d+)?(?:\s?[kKM](?![A-Za-z]))?)"
    r"|(?P<pct>-?\d[\d,]*(?:\.\d+)?%)"
    r"|(?P<num>(?<![\w/.-])-?\d[\d,]*(?:\.\d+)?x?(?![\w/]))"
)


@dataclass(frozen=True)
class _Backing:
    money: tuple[float, ...]
    numbers: tuple[float, ...]
    dates: frozenset[dt.date]
    spans: frozenset[int]

    @classmethod
    def of(cls, claims: Sequence[Claim]) -> _Backing:
        money: list[float] = []
        numbers: list[float] = []
        dates: set[dt.date] = set()
        for c in _with_inputs(claims):
            value = c.get("value")
            number = _as_number(value)
            if number is not None:
                numbers.append(number)
                if c.get("claim") in AMOUNT_CLAIMS | UNCHECKED | {"derived"}:
                    money.append(number)
            elif isinstance(value, str) and (d := _as_date(value)):
                dates.add(d)
            for key in ("day", "from", "to"):
                if (d := _as_date(c.get(key))) is not None:
                    dates.add(d)
        spans = frozenset(abs((a - b).days) for a in dates for b in dates)
        return cls(tuple(money), tuple(numbers), frozenset(dates), spans)


def _with_inputs(claims: Iterable[Any]) -> list[Claim]:
    """The claims and, at any depth, the inputs of the derived ones."""
    out: list[Claim] = []
    for c in claims:
        if isinstance(c, dict):
            out.append(c)
            if isinstance(c.get("inputs"), dict):
                out += _with_inputs(c["inputs"].values())
    return out


def _strip_names(sentence: str, names: Sequence[str]) -> str:
    for name in sorted(names, key=len, reverse=True):
        sentence = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", sentence)
    return sentence


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _near(values: Iterable[float], target: float, half: float) -> bool:
    return any(abs(abs(v) - abs(target)) <= half + 1e-6 * max(1.0, abs(target)) for v in values)


def _unbacked(text: str, b: _Backing) -> list[tuple[str, str]]:
    """The number tokens of ``text`` no claim backs, each with what was looked for."""
    out = []
    for m in _TOKENS.finditer(text):
        kind = m.lastgroup
        token = m.group(0)
        if kind == "dmy":
            day, month, year = (int(x) for x in token.split("/"))
            try:
                ok = dt.date(year, month, day) in b.dates
            except ValueError:
                ok = False
        elif kind == "iso":
            ok = _as_date(token) in b.dates
        elif kind == "month":
            ok = any(d.isoformat()[:7] == token for d in b.dates)
        elif kind == "my":  # 11/2026
            mm, _, yyyy = token.partition("/")
            ok = any(d.isoformat()[:7] == f"{yyyy}-{int(mm):02d}" for d in b.dates)
        elif kind == "money":
            body = re.sub(SIGN_PATTERN, "", token.lstrip("-"), count=1).strip().lstrip("-")
            mult = {"k": 1e3, "K": 1e3, "M": 1e6}.get(body[-1:], 1.0)
            digits = body.rstrip("kKM").strip().replace(",", "")
            target = float(digits) * mult
            ok = _near(b.money, target, 0.5 * 10 ** -_decimals(digits) * mult)
        elif kind == "pct":
            digits = token.rstrip("%").replace(",", "")
            x, half = float(digits), 0.5 * 10 ** -_decimals(digits)
            ok = _near([100 * v for v in b.numbers], x, half) or _near(b.numbers, x, half)
        else:
            digits = token.rstrip("x").rstrip(",").replace(",", "")
            x, half = float(digits), 0.5 * 10 ** -_decimals(digits)
            ok = _near(b.numbers, x, half) or (x == int(x) and int(abs(x)) in b.spans)
        if not ok:
            out.append((token, f"no claim whose value reads {token!r}"))
    return out


def audit(ws: Any, statements: Sequence[Statement]) -> AuditReport:
    """Recompute every claim of ``statements`` from ``ws``'s invoice lines and check their
    words and numbers; every disagreement is in the report."""
    return _Auditor(ws, statements).run()
