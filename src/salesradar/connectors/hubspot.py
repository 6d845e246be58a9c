"""HubSpot CRM API v3 with a private app's access token: owners, companies, contacts, deals
(with their pipelines and stage history) and calls, meetings and e-mails.

Base URL ``https://api.hubapi.com`` (the connection's URL; tests point it at a local server),
``Authorization: Bearer <token>``.

- A first (or ``--full``) sync lists each object with ``GET /crm/v3/objects/{type}``, 100
  records a page, following ``paging.next.after``.
- Later syncs ask the search API (``POST /crm/v3/objects/{type}/search``) for records whose
  last-modified property (``hs_lastmodifieddate``; ``lastmodifieddate`` for contacts) is at or
  after the high-water mark less the overlap window, sorted by it ascending, 200 a page. The
  search API returns at most 10,000 results per query: when a query reaches that window, the
  connector starts a new query from the last modification time it has seen and skips the
  records it already has. Search requests are spaced (``search_interval``, default 0.25 s) to
  stay under the search API's per-second limit.
- The search API returns no associations, so the primary company of contacts, deals and
  activities (and the deal of an activity) comes from the associations API v4
  (``POST /crm/v4/associations/{from}/{to}/batch/read``): the association labelled ``Primary``,
  else the first.
- Deal stages: ``GET /crm/v3/pipelines/deals`` gives each stage's label and whether it is
  closed and won (``metadata.isClosed``, ``metadata.probability``); the history comes from the
  ``hs_date_entered_<stage id>`` properties, one per stage.
- Archived (deleted) records: ``GET /crm/v3/objects/{type}?archived=true``; their rows are
  deleted from the canonical tables.
- Limits: a 429 waits for ``Retry-After`` within the sync's budget; a 429 of the daily policy,
  or ``X-HubSpot-RateLimit-Daily-Remaining`` below ``daily_reserve`` (default 500 calls, left
  for the account's other integrations), stops the sync at once: nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from salesradar.connectors.base import (
    Feed,
    Pulled,
    SourceObject,
    chunks,
    field_value,
    number,
    wall_time,
)
from salesradar.connectors.http import ApiClient, HttpSettings, Sleep
from salesradar.connectors.store import Connection

SEARCH_WINDOW = 10_000  # results one search query can page through
LIST_LIMIT = 100
SEARCH_LIMIT = 200
BATCH = 100  # records whose associations are read in one call
PROPERTIES: dict[str, tuple[str, ...]] = {
    "companies": ("name", "hubspot_owner_id", "industry", "country", "createdate",
                  "annualrevenue", "hs_lastmodifieddate"),
    "contacts": ("firstname", "lastname", "email", "jobtitle", "notes_last_updated",
                 "lastmodifieddate"),
    "deals": ("dealname", "pipeline", "dealstage", "amount", "createdate", "closedate",
              "hubspot_owner_id", "hs_manual_forecast_category", "closed_lost_reason",
              "hs_lastmodifieddate"),
    "calls": ("hs_timestamp", "hubspot_owner_id", "hs_call_duration", "hs_call_disposition",
              "hs_lastmodifieddate"),
    "meetings": ("hs_timestamp", "hubspot_owner_id", "hs_meeting_outcome",
                 "hs_meeting_start_time", "hs_meeting_end_time", "hs_lastmodifieddate"),
    "emails": ("hs_timestamp", "hubspot_owner_id", "hs_email_direction",
               "hs_lastmodifieddate"),
}
MODIFIED = {"contacts": "lastmodifieddate"}  # every other object: hs_lastmodifieddate
ASSOCIATED: dict[str, tuple[str, ...]] = {
    "contacts": ("companies",), "deals": ("companies",),
    "calls": ("companies", "deals"), "meetings": ("companies", "deals"),
    "emails": ("companies", "deals"),
}
DERIVED = {"id", "company_id", "deal_id", "full_name", "stage_label", "pipeline_label",
           "outcome", "duration_s", "team", "name", "email", "firstName", "lastName", "archived",
           "entered_at"}


def millis(moment: datetime) -> str:
    """A naive UTC time as HubSpot's filter value: milliseconds since the epoch."""
    return str(int(moment.replace(tzinfo=UTC).timestamp() * 1000))


class HubSpotConnector:
    """Reads a HubSpot account through the CRM API v3 (see the module docstring)."""

    system = "hubspot"
    objects: tuple[SourceObject, ...] = (
        SourceObject("owners", (Feed("reps", "hubspot_api_owners"),), incremental=False),
        SourceObject("companies", (Feed("customers", "hubspot_api_companies"),)),
        SourceObject("contacts", (Feed("contacts", "hubspot_api_contacts"),)),
        SourceObject("deals", (Feed("deals", "hubspot_api_deals"),
                               Feed("deal_stage_history", "hubspot_api_deal_stages"))),
        SourceObject("calls", (Feed("activities", "hubspot_api_calls"),)),
        SourceObject("meetings", (Feed("activities", "hubspot_api_meetings"),)),
        SourceObject("emails", (Feed("activities", "hubspot_api_emails"),)),
    )

    def __init__(self, connection: Connection, secret: str, *,
                 settings: HttpSettings | None = None, sleep: Sleep | None = None) -> None:
        self.name = connection.name
        self.daily_reserve = int(connection.options.get("daily_reserve", 500))
        self.search_interval = float(connection.options.get("search_interval", 0.25))
        self.sleep = sleep or time.sleep
        self._last_search = 0.0
        self._stages: dict[str, dict[str, Any]] | None = None
        self._pipelines: dict[str, str] = {}
        self.client = ApiClient(
            connection.name, self.system, connection.url.rstrip("/") + "/",
            settings=settings, secrets=[secret], sleep=sleep,
            headers={"Authorization": f"Bearer {secret}", "Accept": "application/json"},
            on_response=self._daily_check, on_rate_limit=self._daily_policy)

    # -- limits ---------------------------------------------------------------------------
    def _daily_check(self, response: httpx.Response, what: str) -> None:
        remaining = response.headers.get("X-HubSpot-RateLimit-Daily-Remaining")
        if remaining is not None and remaining.isdigit() and int(remaining) < self.daily_reserve:
            raise self.client.fail(what, f"only {remaining} calls of the HubSpot account's daily "
                                   f"API limit are left (this connection keeps "
                                   f"{self.daily_reserve} for other integrations); nothing was "
                                   "written, run the sync after the daily reset")

    def _daily_policy(self, response: httpx.Response, what: str) -> None:
        try:
            policy = response.json().get("policyName")
        except (ValueError, AttributeError):
            policy = None
        if policy == "DAILY":
            raise self.client.fail(what, "the HubSpot account's daily API limit is used up "
                                   "(HTTP 429, policy DAILY); nothing was written, run the "
                                   "sync after the daily reset")

    # -- the protocol ---------------------------------------------------------------------
    def check(self) -> dict[str, Any]:
        body = self.client.get_json("crm/v3/owners", what="owners (connection test)",
                                    params={"limit": 1})
        return {"owners_readable": isinstance(body, dict) and "results" in body}

    def pull(self, obj: SourceObject, since: datetime | None, fields: set[str],
             pulled: Pulled) -> None:
        if obj.name == "owners":
            self._owners(obj, pulled)
            return
        properties = list(PROPERTIES[obj.name])
        properties += sorted(f for f in fields - DERIVED if f not in properties)
        if obj.name == "deals":
            properties += [f"hs_date_entered_{stage}" for stage in self.stages()]
        modified = MODIFIED.get(obj.name, "hs_lastmodifieddate")
        source = (self._list(obj.name, properties) if since is None
                  else self._search(obj.name, properties, modified, since))
        seen: set[str] = set()
        batch: list[dict[str, Any]] = []
        for record in source:
            if str(record["id"]) in seen:
                continue
            seen.add(str(record["id"]))
            pulled.fetched += 1
            pulled.seen(wall_time((record.get("properties") or {}).get(modified)))
            batch.append(record)
            if len(batch) == BATCH:
                self._rows(obj, batch, properties, pulled)
                batch = []
        self._rows(obj, batch, properties, pulled)
        table = obj.feeds[0].table
        for archived in self._archived(obj.name, since):
            pulled.deleted.setdefault(table, set()).add(archived)
            if obj.name == "deals":
                pulled.deleted.setdefault("deal_stage_history", set()).add(archived)

    def _rows(self, obj: SourceObject, records: list[dict[str, Any]], properties: list[str],
              pulled: Pulled) -> None:
        """Flat rows of a batch of records, with their associations (one call per target)."""
        if not records:
            return
        ids = [str(r["id"]) for r in records]
        links = {to: self._associations(obj.name, to, ids) for to in ASSOCIATED.get(obj.name, ())}
        rows = pulled.feed(obj.feeds[0].mapping)
        for record_id, record in zip(ids, records, strict=True):
            props = record.get("properties") or {}
            row: dict[str, Any] = {p: field_value(props.get(p)) for p in properties}
            row["id"] = record_id
            row["company_id"] = links.get("companies", {}).get(record_id)
            row["deal_id"] = links.get("deals", {}).get(record_id)
            self._derive(obj.name, row, props, pulled)
            rows.append(row)

    def close(self) -> None:
        self.client.close()

    # -- reading ----------------------------------------------------------------------------
    def _paged(self, url: str, what: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """GET pages following ``paging.next.after``."""
        query = dict(params)
        while True:
            body = self.client.get_json(url, what=what, params=query)
            yield from body.get("results") or []
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            query["after"] = after

    def _list(self, name: str, properties: list[str]) -> Iterator[dict[str, Any]]:
        yield from self._paged(f"crm/v3/objects/{name}", name,
                               {"limit": LIST_LIMIT, "properties": ",".join(properties)})

    def _search(self, name: str, properties: list[str], modified: str,
                since: datetime) -> Iterator[dict[str, Any]]:
        """Records modified at or after ``since``, through as many 10,000-result windows of
        the search API as it takes (see the module docstring)."""
        lower = millis(since)
        seen: set[str] = set()
        while True:
            after = 0
            last_modified: str | None = None
            new = 0
            while True:
                if after + SEARCH_LIMIT > SEARCH_WINDOW:
                    break  # the next page would pass the search window: start a new query
                body = self._search_page(name, properties, modified, lower, after)
                for record in body.get("results") or []:
                    value = (record.get("properties") or {}).get(modified)
                    moment = wall_time(value)
                    if moment is not None:
                        last_modified = millis(moment)
                    if str(record["id"]) not in seen:
                        seen.add(str(record["id"]))
                        new += 1
                        yield record
                next_after = ((body.get("paging") or {}).get("next") or {}).get("after")
                if not next_after:
                    return
                after = int(next_after)
            if last_modified is None or (last_modified == lower and not new):
                raise self.client.fail(name, f"more than {SEARCH_WINDOW:,} records share one "
                                       "modification time, past what the search API can page "
                                       "through; run salesradar sync --full for this connection")
            lower = last_modified

    def _search_page(self, name: str, properties: list[str], modified: str, lower: str,
                     after: int) -> dict[str, Any]:
        wait = self._last_search + self.search_interval - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        body = {
            "filterGroups": [{"filters": [
                {"propertyName": modified, "operator": "GTE", "value": lower}]}],
            "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
            "properties": properties, "limit": SEARCH_LIMIT, "after": str(after),
        }
        response = self.client.request("POST", f"crm/v3/objects/{name}/search",
                                       what=f"{name} (search)", json=body)
        self._last_search = time.monotonic()
        result = self.client.json_of(response, name)
        return result if isinstance(result, dict) else {}

    def _archived(self, name: str, since: datetime | None) -> Iterator[str]:
        """Ids archived in HubSpot (since ``since``, when given)."""
        for record in self._paged(f"crm/v3/objects/{name}", f"{name} (archived)",
                                  {"limit": LIST_LIMIT, "archived": "true"}):
            when = wall_time(record.get("archivedAt"))
            if since is None or when is None or when >= since:
                yield str(record["id"])

    def _associations(self, source: str, target: str, ids: list[str]) -> dict[str, str]:
        """Each record's primary (else first) associated ``target`` id."""
        found: dict[str, str] = {}
        for part in chunks(ids, 100):
            response = self.client.request(
                "POST", f"crm/v4/associations/{source}/{target}/batch/read",
                what=f"{source} → {target} associations",
                json={"inputs": [{"id": i} for i in part]}, allow=(207,))
            body = self.client.json_of(response, source)
            for result in body.get("results") or []:
                links = result.get("to") or []
                if not links:
                    continue
                primary = [link for link in links if any(
                    (t.get("label") or "").lower() == "primary"
                    for t in link.get("associationTypes") or [])]
                chosen = (primary or links)[0]
                found[str(result["from"]["id"])] = str(chosen["toObjectId"])
        return found

    def stages(self) -> dict[str, dict[str, Any]]:
        """Deal stages by id: label, pipeline, closed and won (from the pipelines API)."""
        if self._stages is None:
            body = self.client.get_json("crm/v3/pipelines/deals", what="deal pipelines")
            self._stages = {}
            for pipeline in body.get("results") or []:
                self._pipelines[str(pipeline["id"])] = str(pipeline.get("label") or "")
                for stage in pipeline.get("stages") or []:
                    meta = stage.get("metadata") or {}
                    self._stages[str(stage["id"])] = {
                        "label": stage.get("label"),
                        "closed": str(meta.get("isClosed")).lower() == "true",
                        "probability": number(meta.get("probability")),
                    }
        return self._stages

    def _derive(self, name: str, row: dict[str, Any], props: dict[str, Any],
                pulled: Pulled) -> None:
        """The values a mapping cannot compute from one field."""
        if name == "contacts":
            parts = [props.get("firstname"), props.get("lastname")]
            row["full_name"] = " ".join(p for p in parts if p) or None
        elif name == "meetings":
            start = wall_time(props.get("hs_meeting_start_time"))
            end = wall_time(props.get("hs_meeting_end_time"))
            row["duration_s"] = (end - start).total_seconds() if start and end else None
        elif name == "deals":
            stages = self.stages()
            stage = stages.get(str(props.get("dealstage")), {})
            row["stage_label"] = stage.get("label") or props.get("dealstage")
            row["pipeline_label"] = self._pipelines.get(str(props.get("pipeline")),
                                                        props.get("pipeline"))
            won = stage.get("closed") and stage.get("probability") == 1.0
            row["outcome"] = "won" if won else "lost" if stage.get("closed") else "open"
            history = pulled.feed("hubspot_api_deal_stages")
            for stage_id, info in stages.items():
                entered = field_value(props.get(f"hs_date_entered_{stage_id}"))
                if entered:
                    history.append({"id": row["id"], "stage_label": info["label"],
                                    "entered_at": entered})

    def _owners(self, obj: SourceObject, pulled: Pulled) -> None:
        rows = pulled.feed(obj.feeds[0].mapping)
        for owner in self._paged("crm/v3/owners", "owners", {"limit": LIST_LIMIT}):
            pulled.fetched += 1
            teams = owner.get("teams") or []
            primary = [t for t in teams if t.get("primary")] or teams
            names = [owner.get("firstName"), owner.get("lastName")]
            rows.append({
                "id": str(owner.get("id")), "email": owner.get("email"),
                "firstName": owner.get("firstName"), "lastName": owner.get("lastName"),
                "name": " ".join(n for n in names if n) or owner.get("email"),
                "team": primary[0].get("name") if primary else None,
                "archived": bool(owner.get("archived")),
            })
