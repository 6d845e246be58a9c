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
   false one over three purchase days or more; "bought once" / "bought twice" need
   ``purchase_days`` 1 / 2.
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

import datetime as dt
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from salesradar.insights.claims import CLAIMS, Claim

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
                           "previous_purchase_day", "median_gap_days",
                           "days_since_last_purchase", "past_rhythm", "value_at_stake"})
WINDOW_CLAIMS = frozenset({"sales_on_day", "net_revenue", "gross_sales", "returned",
                           "purchase_days_in"})
UNCHECKED = frozenset({"model_output", "setting"})
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
            names += [str(c[k]) for k in ("customer_id", "sku", "rep_id") if c.get(k)]
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
    num: float | None = None
    day_value: dt.date | None = None
    flag: bool | None = None
    sid: int | None = None
    lo: dt.date | None = None
    hi: dt.date | None = None


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


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _subject_key(c: Claim) -> tuple[str, tuple[str, ...], str | None] | None:
    """(how the subject selects lines, its ids, its SKU); None without a subject."""
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
    return None


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
        if any(p.sid is not None for p in self.parsed):
            self._load()
            try:
                self._rhythm()
                self._windows()
                self._distinct_skus()
                self._value_at_stake()
            finally:
                for name in ("_audit_claims", "_audit_members", "_audit_lines", "_audit_days",
                             "_audit_rhythm"):
                    self.con.execute(f"DROP TABLE IF EXISTS {name}")
        for p in self.parsed:
            self._compare(p)
        for owner in range(len(self.statements)):
            self._words(owner)
            self._numbers(owner)
        order = sorted(range(len(self.owners)), key=self.owners.__getitem__)
        self.report.disagreements = [self.report.disagreements[i] for i in order]
        return self.report

    def _parse(self, owner: int, raw: Any) -> None:
        if not isinstance(raw, dict) or "claim" not in raw:
            self.disagree(owner, "?", raw, None, self.sentence_for(owner),
                          "unreadable claim: not a claim dict")
            return
        name = str(raw["claim"])
        self.report.claims[name] += 1
        if name not in CLAIMS:
            self.disagree(owner, name, raw.get("value"), None, self.sentence_for(owner),
                          "unknown claim name")
            return
        p = _Parsed(len(self.parsed), owner, name, raw)
        value = raw.get("value")
        if name in UNCHECKED:
            self.parsed.append(p)
            return
        if name in DAY_CLAIMS:
            p.day_value = _as_date(value)
            ok = p.day_value is not None
        elif name == "past_rhythm":
            p.flag = value if isinstance(value, bool) else None
            ok = p.flag is not None
        else:
            p.num = _as_number(value)
            ok = p.num is not None
        key = _subject_key(raw)
        if not ok or key is None:
            self.disagree(owner, name, value, None, self.sentence_for(owner),
                          "unreadable claim: " + ("no subject" if ok else "bad value"))
            return
        p.sid = self.subjects.setdefault(key, len(self.subjects))
        p.hi = _as_date(raw.get("to")) or self.data_day
        if name == "sales_on_day":
            day = _as_date(raw.get("day"))
            if day is None:
                self.disagree(owner, name, value, None, self.sentence_for(owner),
                              "unreadable claim: sales_on_day without a day")
                return
            p.lo = p.hi = day
        else:
            p.lo = _as_date(raw.get("from")) or _FAR_PAST
        self.parsed.append(p)

    # -- loading: claims and the lines of their subjects, once
    def _load(self) -> None:
        rows = [p for p in self.parsed if p.sid is not None]
        claims = pa.table({
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
        member_table = pa.table({
            "sid": pa.array(members["sid"], pa.int64()),
            "how": pa.array(members["how"], pa.string()),
            "id": pa.array(members["id"], pa.string()),
            "sku": pa.array(members["sku"], pa.string()),
        })
        self.con.register("_audit_claims_in", claims)
        self.con.register("_audit_members_in", member_table)
        try:
            self.con.execute("CREATE OR REPLACE TEMP TABLE _audit_claims AS "
                             "SELECT * FROM _audit_claims_in")
            self.con.execute("CREATE OR REPLACE TEMP TABLE _audit_members AS "
                             "SELECT * FROM _audit_members_in")
        finally:
            self.con.unregister("_audit_claims_in")
            self.con.unregister("_audit_members_in")
        # every line of every subject: by customer(s), optionally one SKU; by rep; by SKU
        self.con.execute("""
            CREATE OR REPLACE TEMP TABLE _audit_lines AS
            WITH l AS (SELECT customer_id::VARCHAR AS customer_id, sku::VARCHAR AS sku,
                              rep_id::VARCHAR AS rep_id, invoice_date::DATE AS day,
                              net_revenue::DECIMAL(38, 4) AS net
                       FROM invoice_lines)
            SELECT m.sid, l.day, l.sku, l.net FROM l JOIN _audit_members m
              ON m.how = 'customers' AND m.sku IS NULL AND l.customer_id = m.id
            UNION ALL
            SELECT m.sid, l.day, l.sku, l.net FROM l JOIN _audit_members m
              ON m.how = 'customers' AND l.customer_id = m.id AND l.sku = m.sku
            UNION ALL
            SELECT m.sid, l.day, l.sku, l.net FROM l JOIN _audit_members m
              ON m.how = 'rep' AND l.rep_id = m.id AND (m.sku IS NULL OR l.sku = m.sku)
            UNION ALL
            SELECT m.sid, l.day, l.sku, l.net FROM l JOIN _audit_members m
              ON m.how = 'sku' AND l.sku = m.sku""")
        # a subject's day: gross sales (positive lines), returns (minus the negative lines),
        # net; a purchase day is a day with gross sales above zero
        self.con.execute("""
            CREATE OR REPLACE TEMP TABLE _audit_days AS
            SELECT sid, day,
                   coalesce(sum(net) FILTER (WHERE net > 0), 0) AS gross,
                   coalesce(-sum(net) FILTER (WHERE net < 0), 0) AS returned,
                   coalesce(sum(net), 0) AS net
            FROM _audit_lines GROUP BY sid, day""")

    def _fetch(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (
            self.con.execute(sql, list(params)).to_arrow_table().to_pylist())
        return rows

    def _store(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            self.recomputed.setdefault(int(r.pop("cid")), {}).update(r)

    # -- the families, one query each
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
                   median(p.gap)::DOUBLE AS median_gap
            FROM k LEFT JOIN p ON p.sid = k.sid AND p.hi = k.hi
            GROUP BY k.sid, k.hi""", [names])
        self._store(self._fetch("""
            SELECT c.cid, r.n, r.first_day, r.last_day, r.previous_day, r.median_gap,
                   c.hi - r.last_day AS days_since
            FROM _audit_claims c JOIN _audit_rhythm r ON r.sid = c.sid AND r.hi = c.hi
            WHERE list_contains(?::VARCHAR[], c.name)""", names))

    def _windows(self) -> None:
        """Net revenue, gross sales, returns and purchase days in [from, to]."""
        names = sorted(WINDOW_CLAIMS)
        self._store(self._fetch("""
            WITH k AS (SELECT DISTINCT sid, lo, hi FROM _audit_claims
                       WHERE list_contains(?::VARCHAR[], name)),
            s AS (SELECT k.sid, k.lo, k.hi, coalesce(sum(d.net), 0)::DOUBLE AS net,
                         coalesce(sum(d.gross), 0)::DOUBLE AS gross,
                         coalesce(sum(d.returned), 0)::DOUBLE AS returned,
                         count(d.day) FILTER (WHERE d.gross > 0) AS days_in
                  FROM k LEFT JOIN _audit_days d
                    ON d.sid = k.sid AND d.day >= k.lo AND d.day <= k.hi
                  GROUP BY k.sid, k.lo, k.hi)
            SELECT c.cid, s.net, s.gross, s.returned, s.days_in
            FROM _audit_claims c JOIN s ON s.sid = c.sid AND s.lo = c.lo AND s.hi = c.hi
            WHERE list_contains(?::VARCHAR[], c.name)""", names, names))

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
        n = int(r.get("n") or 0)
        got: Any
        if p.name == "purchase_days":
            got, ok = n, p.num == n
        elif p.name == "first_purchase_day":
            got = r.get("first_day")
            ok = p.day_value == got
        elif p.name == "last_purchase_day":
            got = r.get("last_day")
            ok = p.day_value == got
        elif p.name == "previous_purchase_day":
            got = r.get("previous_day")
            ok = p.day_value == got
        elif p.name == "days_since_last_purchase":
            got = r.get("days_since")
            ok = got is not None and p.num == got
        elif p.name == "median_gap_days":
            got = r.get("median_gap")
            if n < RHYTHM_MIN_DAYS:
                self.disagree(p.owner, p.name, stated, f"{n} purchase day(s)", sentence,
                              f"rhythm stated with {n} purchase day(s) (needs "
                              f"{RHYTHM_MIN_DAYS})")
                return
            ok = got is not None and p.num is not None and abs(p.num - got) < 1e-9
        elif p.name == "past_rhythm":
            med, since = r.get("median_gap"), r.get("days_since")
            got = bool(n >= RHYTHM_MIN_DAYS and med is not None and since is not None
                       and since > med)
            ok = p.flag == got
            if not ok:
                detail = (f"{since} days since the last purchase day vs a median gap of "
                          f"{med} over {n} purchase day(s)")
                self.disagree(p.owner, p.name, stated, got, sentence,
                              f"past_rhythm is {got}: {detail}")
                return
        elif p.name == "value_at_stake":
            got = r.get("value")
            gross = r.get("year_gross")
            if p.num is not None and gross is not None and p.num > gross + _money_tol(gross):
                self.disagree(p.owner, p.name, stated, got, sentence,
                              f"value at stake above what the subject bought in that year "
                              f"({gross:,.2f})")
                return
            ok = got is not None and p.num is not None and _money_ok(p.num, got)
        elif p.name in MONEY_CLAIMS:
            got = {"net_revenue": r.get("net"), "gross_sales": r.get("gross"),
                   "sales_on_day": r.get("gross"), "returned": r.get("returned")}[p.name]
            ok = got is not None and p.num is not None and _money_ok(p.num, got)
        elif p.name == "purchase_days_in":
            got = r.get("days_in")
            ok = got is not None and p.num == got
        elif p.name == "distinct_skus":
            got = r.get("skus")
            ok = got is not None and p.num == got
        else:  # pragma: no cover - every name of CLAIMS is handled above
            got, ok = None, False
        if not ok:
            self.disagree(p.owner, p.name, stated, got, sentence,
                          f"{p.name} does not match the invoice lines")

    # -- words
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
            drift = _DRIFT_WORDS.search(low)
            if drift:
                past = [p for p in mine if p.name == "past_rhythm"]
                if not any(p.flag is True and self._past_true(p) for p in past):
                    self.disagree(owner, "words: past rhythm", drift.group(0),
                                  [self._past_true(p) for p in past] or "no past_rhythm claim",
                                  sentence, "'drifting'/'stopped' without a true past_rhythm "
                                  "claim")
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


# ---------------------------------------------------------------------- numbers in text
_RHYTHM_WORDS = re.compile(
    r"(?:order(?:s|ed)?\s+)?every\s+~\s*(\d[\d,]*)\s*days?|order(?:s|ed)?\s+every")
_DRIFT_WORDS = re.compile(r"\bdrifting\b|stopped ordering|has stopped|past its rhythm")
_CURRENCY = "₪£$€"
_TOKENS = re.compile(
    r"(?P<dmy>\b\d{1,2}/\d{1,2}/\d{4}\b)"
    r"|(?P<iso>\b\d{4}-\d{2}-\d{2}\b)"
    r"|(?P<month>\b\d{4}-\d{2}\b)"
    rf"|(?P<money>-?[{_CURRENCY}]\s?-?\d[\d,]*(?:\.\d+)?(?:\s?[kKM](?![A-Za-z]))?)"
    r"|(?P<pct>-?\d[\d,]*(?:\.\d+)?%)"
    r"|(?P<num>(?<![\w/.])-?\d[\d,]*(?:\.\d+)?x?(?![\w/]))"
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
        for c in claims:
            if not isinstance(c, dict):
                continue
            value = c.get("value")
            number = _as_number(value)
            if number is not None:
                numbers.append(number)
                if c.get("claim") in MONEY_CLAIMS | UNCHECKED:
                    money.append(number)
            elif isinstance(value, str) and (d := _as_date(value)):
                dates.add(d)
            for key in ("day", "from", "to"):
                if (d := _as_date(c.get(key))) is not None:
                    dates.add(d)
        spans = frozenset(abs((a - b).days) for a in dates for b in dates)
        return cls(tuple(money), tuple(numbers), frozenset(dates), spans)


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
        elif kind == "money":
            body = token.lstrip("-").lstrip(_CURRENCY).strip().lstrip("-")
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
