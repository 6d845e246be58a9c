"""SAP Business One through its Service Layer (OData): documents, partners, items, sales people.

Service root: ``https://<host>:50000/b1s/v1/`` (the connection's URL). A sync logs in with
``POST Login`` (``CompanyDB`` = the connection's ``--company``, ``UserName`` and ``Password``
from the credential), keeps the ``B1SESSION`` (and ``ROUTEID``) cookies the answer sets, logs in
again once if the session expires mid-sync (HTTP 401), and logs out at the end.

Increments: ``$filter=UpdateDate ge '<date>'`` from the last high-water mark less the overlap
window. ``UpdateDate`` holds a day only, so every record changed on the mark's day is read
again: the fetched count of an incremental sync includes them, the changed count does not.
Paging: the Service Layer answers 20 records a page unless asked otherwise
(``Prefer: odata.maxpagesize=N``) and links the next page in ``odata.nextLink``
(``@odata.nextLink`` on the v2 service); both are followed.

Documents: ``Invoices`` and ``CreditNotes`` with their ``DocumentLines``. Credit notes become
lines with negative quantity and amount, under ``CN<DocNum>`` (invoices under ``IN<DocNum>``,
the two series being numbered separately). A cancelled document (``Cancelled`` = ``tYES``) and
the cancellation document SAP creates for it (``CancelStatus`` = ``csCancellation``) carry no
sales: their stored lines are deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from salesradar.connectors.base import (
    ConnectorError,
    Feed,
    Pulled,
    SourceObject,
    Spool,
    field_value,
    number,
    wall_time,
)
from salesradar.connectors.http import ApiClient, HttpSettings, Sleep
from salesradar.connectors.secrets import split_user
from salesradar.connectors.store import Connection

DOC_FIELDS = ("DocEntry", "DocNum", "DocDate", "CardCode", "SalesPersonCode", "Cancelled",
              "CancelStatus", "UpdateDate", "UpdateTime", "DocumentLines")
LINE_FIELDS = ("LineNum", "ItemCode", "ItemDescription", "Quantity", "Price", "LineTotal",
               "GrossBuyPrice", "SalesPersonCode")
SELECT: dict[str, tuple[str, ...]] = {
    "SalesPersons": ("SalesEmployeeCode", "SalesEmployeeName", "Active"),
    "BusinessPartners": ("CardCode", "CardName", "CardType", "SalesPersonCode",
                         "CreateDate", "UpdateDate", "UpdateTime"),
    "Items": ("ItemCode", "ItemName", "ItemsGroupCode", "Valid", "SalesItem", "UpdateDate",
              "UpdateTime"),
    "Invoices": DOC_FIELDS,
    "CreditNotes": DOC_FIELDS,
}
BASE_FILTER = {"BusinessPartners": "CardType eq 'cCustomer'"}
DERIVED = {"sr_document", "sr_quantity", "sr_amount", "sr_cost"}
PREFIX = {"Invoices": "IN", "CreditNotes": "CN"}


def day_of(record: dict[str, Any]) -> datetime | None:
    """The record's update day and time (``UpdateDate`` with ``UpdateTime`` when given)."""
    day = wall_time(record.get("UpdateDate"))
    if day is None:
        return None
    clock = str(record.get("UpdateTime") or "")
    try:
        hours, minutes, *rest = (int(p) for p in clock.split(":"))
        return day.replace(hour=hours, minute=minutes, second=rest[0] if rest else 0)
    except ValueError:
        return day


class SapB1Connector:
    """Reads SalesPersons, BusinessPartners (customers), Items, Invoices and CreditNotes."""

    system = "sap-b1"
    objects: tuple[SourceObject, ...] = (
        SourceObject("SalesPersons", (Feed("reps", "sap_b1_api_salespersons"),),
                     incremental=False),
        SourceObject("BusinessPartners", (Feed("customers", "sap_b1_api_businesspartners"),)),
        SourceObject("Items", (Feed("products", "sap_b1_api_items"),)),
        SourceObject("Invoices", (Feed("invoice_lines", "sap_b1_api_documents"),)),
        SourceObject("CreditNotes", (Feed("invoice_lines", "sap_b1_api_documents"),)),
    )

    def __init__(self, connection: Connection, secret: str, *,
                 settings: HttpSettings | None = None, sleep: Sleep | None = None) -> None:
        self.user, self.password = split_user(connection.name, secret, "the Service Layer")
        if not connection.company:
            raise ConnectorError(f"connection {connection.name!r}: SAP Business One needs the "
                                 "company database: salesradar connect sap-b1 ... --company DB")
        self.company = connection.company
        self.page_size = int(connection.options.get("page_size", 200))
        self.client = ApiClient(connection.name, self.system, connection.url.rstrip("/") + "/",
                                settings=settings, secrets=[secret], sleep=sleep,
                                headers={"Accept": "application/json"})
        self.logged_in = False

    def login(self) -> None:
        """``POST Login``: the session cookies land in the client's cookie jar."""
        response = self.client.request(
            "POST", "Login", what="Login",
            json={"CompanyDB": self.company, "UserName": self.user, "Password": self.password},
            allow=(400, 401))
        if response.status_code in (400, 401):
            message = _sap_message(response)
            raise self.client.fail("Login", f"the Service Layer refused the login to company "
                                   f"{self.company!r} (HTTP {response.status_code}: "
                                   f"{message}); check the user name and password", auth=True)
        session = self.client.cookies.get("B1SESSION")
        if session:
            self.client.redact.add(session)
        self.logged_in = True

    def check(self) -> dict[str, Any]:
        self.login()
        body = self.client.get_json("SalesPersons", what="SalesPersons (connection test)",
                                    params={"$top": 1, "$select": "SalesEmployeeCode"})
        return {"company": self.company, "sales_persons_readable": "value" in body}

    def pull(self, obj: SourceObject, since: datetime | None, fields: set[str],
             pulled: Pulled) -> None:
        if not self.logged_in:
            self.login()
        select = list(SELECT[obj.name])
        if obj.name not in PREFIX:
            select += sorted(f for f in fields - DERIVED if f not in select)
        params: dict[str, Any] = {"$select": ",".join(select)}
        conditions = [c for c in (BASE_FILTER.get(obj.name),) if c]
        if since is not None and "UpdateDate" in select:
            conditions.append(f"UpdateDate ge '{since.date().isoformat()}'")
        if conditions:
            params["$filter"] = " and ".join(conditions)
        key = select[0]
        params["$orderby"] = key
        rows = pulled.feed(obj.feeds[0].mapping)
        # a record created while the sync pages shifts the later ones by one, and the next
        # page then repeats one: each record is kept once (it changed? the next sync has it)
        keys: set[str] = set()
        for page in self._pages(obj.name, params):
            for record in page:
                record_key = str(record.get(key))
                if record_key in keys:
                    continue
                keys.add(record_key)
                pulled.fetched += 1
                pulled.seen(day_of(record))
                if obj.name in PREFIX:
                    self._document(obj.name, record, pulled, rows)
                else:
                    rows.append({f: field_value(record.get(f)) for f in select})

    def _pages(self, name: str, params: dict[str, Any]) -> Any:
        """Pages of ``name``, logging in again once if the session expired."""
        headers = {"Prefer": f"odata.maxpagesize={self.page_size}"}
        renewed = False
        query = dict(params)
        link: str | None = None
        while True:
            response = self.client.request(
                "GET", link or name, what=name, params=None if link else query,
                headers=headers, allow=(401,))
            if response.status_code == 401:
                if renewed:
                    raise self.client.fail(name, "the session was refused again right after a "
                                           "new login (HTTP 401)", auth=True)
                renewed = True
                self.login()
                continue
            renewed = False
            body = self.client.json_of(response, name)
            values = body.get("value") if isinstance(body, dict) else None
            if not isinstance(values, list):
                raise self.client.fail(name, "the answer has no 'value' list")
            yield values
            next_link = body.get("odata.nextLink") or body.get("@odata.nextLink")
            if not next_link:
                return
            link = self.client.resolve(str(next_link))

    def _document(self, name: str, record: dict[str, Any], pulled: Pulled,
                  rows: Spool) -> None:
        document = f"{PREFIX[name]}{record.get('DocNum')}"
        cancelled = (str(record.get("Cancelled")) == "tYES"
                     or str(record.get("CancelStatus")) == "csCancellation")
        lines = record.get("DocumentLines") or []
        if cancelled or not lines:
            pulled.deleted.setdefault("invoice_lines", set()).add(document)
            return
        sign = -1.0 if name == "CreditNotes" else 1.0
        header = {f: field_value(record.get(f)) for f in DOC_FIELDS if f != "DocumentLines"}
        document_rows = []
        for line in lines:
            row = dict(header)
            row.update({f: field_value(v) for f, v in line.items()
                        if not isinstance(v, list | dict)})
            quantity = number(line.get("Quantity"))
            amount = number(line.get("LineTotal"))
            cost = number(line.get("GrossBuyPrice"))
            row["sr_document"] = document
            row["sr_quantity"] = None if quantity is None else sign * abs(quantity)
            row["sr_amount"] = None if amount is None else sign * abs(amount)
            row["sr_cost"] = (None if cost is None or quantity is None
                              else sign * abs(cost * quantity))
            document_rows.append(row)
        rows.extend(document_rows)  # one call: a spool part never splits a document

    def close(self) -> None:
        try:
            if self.logged_in:
                self.client.request("POST", "Logout", what="Logout", allow=(400, 401))
        except ConnectorError:
            pass  # the session ends by itself after its timeout
        finally:
            self.client.close()


def _sap_message(response: Any) -> str:
    try:
        error = response.json().get("error", {})
        message = error.get("message", {})
        return str(message.get("value") if isinstance(message, dict) else message)[:200]
    except (ValueError, AttributeError):
        return str(response.text)[:200]
