"""Priority ERP through its REST API (OData v4): sales invoices, customers, parts and agents.

Service root: ``https://<host>/odata/Priority/<tabula.ini>/<company>/`` (the connection's URL
is the part up to ``tabula.ini``; ``--company`` is the company's code). Authentication is Basic:
``USER:PASSWORD``, or ``TOKEN:PAT`` for a personal access token.

Increments: each entity is read in order of its update date (``UDATE``) from the last sync's
high-water mark less the overlap window: ``$filter=UDATE ge <time>&$orderby=UDATE,<key>``,
``$top`` records at a time. Each next page starts at the last update time seen (keyset
paging), so a record updated while the sync pages can never shift another out of sight the way
``$skip`` would; ``$skip`` is used only within one update time shared by more records than a
page holds. A server that pages by itself (``@odata.nextLink``) is followed. Priority caps any
answer at its MAXFORMLINES constant, so every request carries ``$top``.

Invoices: ``AINVOICES`` with ``$expand=AINVOICEITEMS_SUBFORM``, final documents only
(``FINAL eq 'Y'``). A credit note (``DEBIT`` = ``C``) becomes lines with negative quantity and
amount; a re-sent invoice replaces all of its stored lines (the mapping's
``replace_documents``), and an invoice that comes back without lines has its stored lines
deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from salesradar.connectors.base import Feed, Pulled, SourceObject, field_value, number
from salesradar.connectors.http import ApiClient, HttpSettings, Sleep, odata_pages
from salesradar.connectors.secrets import split_user
from salesradar.connectors.store import Connection

ITEMS = "AINVOICEITEMS_SUBFORM"
DERIVED = {"sr_quantity", "sr_amount"}


@dataclass(frozen=True)
class Entity:
    """A Priority form read as an OData entity set."""

    name: str
    key: str
    select: tuple[str, ...]
    modified: str | None = "UDATE"  # None: read whole on every sync
    base_filter: str | None = None


ENTITIES: dict[str, Entity] = {e.name: e for e in (
    Entity("AGENTS", "AGENTCODE", ("AGENTCODE", "AGENTNAME"), modified=None),
    Entity("CUSTOMERS", "CUSTNAME", ("CUSTNAME", "CUSTDES", "AGENTCODE", "UDATE")),
    Entity("LOGPART", "PARTNAME", ("PARTNAME", "PARTDES", "FAMILYNAME", "UDATE")),
    # IVNUM, IVTYPE and DEBIT form the invoice's key: an $expand of a subform needs all three
    # in the $select (the documentation's note on composite keys)
    Entity("AINVOICES", "IVNUM", ("IVNUM", "IVTYPE", "DEBIT", "IVDATE", "CUSTNAME",
                                  "AGENTCODE", "FINAL", "UDATE"), base_filter="FINAL eq 'Y'"),
)}
ITEM_FIELDS = ("KLINE", "PARTNAME", "PDES", "TQUANT", "PRICE", "QPRICE")


def utc(value: Any) -> datetime | None:
    """A DateTimeOffset as a naive UTC instant (the high-water mark's unit)."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def literal(moment: datetime) -> str:
    """A UTC instant as an OData DateTimeOffset literal (unquoted, with its offset)."""
    return moment.replace(microsecond=0).isoformat() + "+00:00"


class PriorityConnector:
    """Reads Priority's AGENTS, CUSTOMERS, LOGPART and AINVOICES (with their items)."""

    system = "priority"
    objects: tuple[SourceObject, ...] = (
        SourceObject("AGENTS", (Feed("reps", "priority_api_agents"),), incremental=False),
        SourceObject("CUSTOMERS", (Feed("customers", "priority_api_customers"),)),
        SourceObject("LOGPART", (Feed("products", "priority_api_logpart"),)),
        SourceObject("AINVOICES", (Feed("invoice_lines", "priority_api_ainvoices"),)),
    )

    def __init__(self, connection: Connection, secret: str, *,
                 settings: HttpSettings | None = None, sleep: Sleep | None = None) -> None:
        user, password = split_user(connection.name, secret, "Priority (or TOKEN:PAT)")
        root = connection.url.rstrip("/")
        if connection.company:
            root += "/" + connection.company
        self.page_size = int(connection.options.get("page_size", 500))
        # forms read whole on every sync (an installation whose form has no UDATE)
        self.whole = {n.strip().upper() for n in str(connection.options.get("read_whole", ""))
                      .split(",") if n.strip()}
        self.client = ApiClient(
            connection.name, self.system, root + "/", settings=settings, secrets=[secret],
            auth=httpx.BasicAuth(user, password), sleep=sleep,
            headers={"Accept": "application/json", "OData-Version": "4.0"})

    def check(self) -> dict[str, Any]:
        body = self.client.get_json("AGENTS", what="AGENTS (connection test)",
                                    params={"$top": 1, "$select": "AGENTCODE"})
        return {"service_root": self.client.base_url,
                "agents_readable": isinstance(body, dict) and "value" in body}

    def pull(self, obj: SourceObject, since: datetime | None, fields: set[str],
             pulled: Pulled) -> None:
        entity = ENTITIES[obj.name]
        if obj.name in self.whole:
            entity = replace(entity, modified=None,
                             select=tuple(f for f in entity.select if f != entity.modified))
        select = list(entity.select)
        extra = sorted(f for f in fields - DERIVED if f not in select)
        params: dict[str, Any] = {}
        if obj.name == "AINVOICES":
            items = list(dict.fromkeys([*ITEM_FIELDS, *extra]))
            params["$expand"] = f"{ITEMS}($select={','.join(items)})"
        else:
            select += extra
        params["$select"] = ",".join(select)
        rows = pulled.feed(obj.feeds[0].mapping)
        seen: set[str] = set()
        for record in self._records(entity, params, since):
            key = str(record.get(entity.key))
            if key in seen:  # met again at a page boundary of the keyset paging
                continue
            seen.add(key)
            pulled.fetched += 1
            if entity.modified:
                pulled.seen(utc(record.get(entity.modified)))
            if obj.name == "AINVOICES":
                lines = self._lines(record, extra)
                if lines:
                    rows.extend(lines)
                else:
                    pulled.deleted.setdefault("invoice_lines", set()).add(key)
            else:
                rows.append({f: field_value(record.get(f)) for f in select})

    def _records(self, entity: Entity, params: dict[str, Any],
                 since: datetime | None) -> Iterator[dict[str, Any]]:
        """Every record of ``entity`` changed since ``since``, by keyset pages on the update
        time (see the module docstring)."""
        what = entity.name
        if entity.modified is None:
            query = {**params, "$orderby": entity.key}
            if entity.base_filter:
                query["$filter"] = entity.base_filter
            for page in odata_pages(self.client, entity.name, what=what, params=query,
                                    page_size=self.page_size, next_key="@odata.nextLink"):
                yield from page
            return
        lower = since
        seen: set[str] = set()
        largest = 0  # the longest answer met: the server's cap when below $top
        while True:
            conditions = [c for c in (entity.base_filter,) if c]
            if lower is not None:
                conditions.append(f"{entity.modified} ge {literal(lower)}")
            query = {**params, "$orderby": f"{entity.modified},{entity.key}",
                     "$top": self.page_size}
            if conditions:
                query["$filter"] = " and ".join(conditions)
            page = self._page(entity, query)
            if not page:
                return
            largest = max(largest, len(page))
            new = [r for r in page if str(r.get(entity.key)) not in seen]
            seen.update(str(r.get(entity.key)) for r in new)
            yield from new
            last = utc(page[-1].get(entity.modified))
            if last is None:
                raise self.client.fail(what, f"a record has no {entity.modified}; read this "
                                       f"form whole: --option read_whole={entity.name}")
            if lower is not None and last < lower:
                raise self.client.fail(what, f"the server answered {entity.modified} "
                                       f"{literal(last)} to a filter from {literal(lower)}: its "
                                       "filter or order does not hold; nothing was written")
            if lower is None or last > lower:
                lower = last  # one more page from here; an answer of seen records ends it
                continue
            if new:
                continue
            if len(page) < largest:
                return
            # a full page, all updated at the same moment, all seen: more records share that
            # moment than an answer holds; go through them with $skip, then past the moment
            for record in self._same_time(entity, params, last):
                if str(record.get(entity.key)) not in seen:
                    seen.add(str(record.get(entity.key)))
                    yield record
            lower = last + timedelta(seconds=1)  # Priority keeps times to the minute

    def _page(self, entity: Entity, query: dict[str, Any]) -> list[dict[str, Any]]:
        """One page, with whatever continuation the server adds by itself."""
        records: list[dict[str, Any]] = []
        for values in odata_pages(self.client, entity.name, what=entity.name, params=query,
                                  page_size=self.page_size, next_key="@odata.nextLink",
                                  client_paging=False):
            records.extend(values)
        return records

    def _same_time(self, entity: Entity, params: dict[str, Any],
                   moment: datetime) -> Iterator[dict[str, Any]]:
        """All records updated at exactly ``moment`` (more than a page), by ``$skip``."""
        conditions = [c for c in (entity.base_filter,) if c]
        conditions.append(f"{entity.modified} eq {literal(moment)}")
        query = {**params, "$orderby": entity.key, "$filter": " and ".join(conditions)}
        for page in odata_pages(self.client, entity.name, what=entity.name, params=query,
                                page_size=self.page_size, next_key="@odata.nextLink"):
            yield from page

    def _lines(self, invoice: dict[str, Any], extra: list[str]) -> list[dict[str, Any]]:
        """The invoice's item lines as flat rows; a credit note's amounts negative."""
        credit = str(invoice.get("DEBIT") or "D").upper() == "C"
        header = {f: field_value(invoice.get(f)) for f in ENTITIES["AINVOICES"].select}
        lines = []
        for item in invoice.get(ITEMS) or []:
            row = dict(header)
            row.update({f: field_value(item.get(f)) for f in (*ITEM_FIELDS, *extra)})
            quantity = number(item.get("TQUANT"))
            amount = number(item.get("QPRICE"))
            row["sr_quantity"] = -abs(quantity) if credit and quantity is not None else quantity
            row["sr_amount"] = -abs(amount) if credit and amount is not None else amount
            lines.append(row)
        return lines

    def close(self) -> None:
        self.client.close()
