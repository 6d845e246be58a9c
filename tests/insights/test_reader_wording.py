"""What a reader of the cards found that the number audit could not (a sales manager's read of
the truth audit's samples of the six datasets, in English and Hebrew): each card
below is hand-made at the case found, and its words are written out here by hand.

The number audit (``salesradar.insights.audit``) still checks every number of these texts on
the real datasets (``make eval``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from salesradar.currency import use_currency
from salesradar.delivery import Person
from salesradar.delivery.message import render_push
from salesradar.insights import Kind
from salesradar.insights.model import Texts
from salesradar.insights.texts import render
from salesradar.models.churn_text import reason_words, terms_of

from .insight_helpers import T0, make_insight, memory_store


def test_one_contact_and_no_executive() -> None:
    """Was "1 contact(s) on record, 0 at executive level" and "1 אנשי קשר רשומים"."""
    e = {"customer_id": "C1", "customer_name": "Klein Institutions", "contacts": 1,
         "executives": 0, "revenue_12m": 2_900_000.0, "tier": "A", "as_of": "2026-10-30"}
    en, he = render("single_threaded_account", e)
    assert en.why == ("tier A account with ₪2.9M in the last year; 1 contact on record, not at "
                      "executive level")
    assert he.why == ("לקוח בדירוג A עם ₪2.9 מיליון בשנה האחרונה; איש קשר אחד רשום, לא בדרג "
                      "הנהלה")
    en, he = render("single_threaded_account", {**e, "contacts": 3, "executives": 1})
    assert en.why.endswith("; 3 contacts on record, 1 at executive level")
    assert he.why.endswith("; 3 אנשי קשר רשומים, אחד מהם בדרג הנהלה")


def test_one_overdue_invoice_and_the_finance_department() -> None:
    """Was "1 unpaid invoice(s) past due, the oldest by 52 days", "1 חשבוניות ... הוותיקה" and
    "יחד עם הכספים" (with the money)."""
    e = {"customer_id": "C7", "customer_name": "Tal Catering", "overdue_amount": 2_800.0,
         "overdue_invoices": 1, "max_days_overdue": 52, "churn_probability": 0.32,
         "as_of": "2026-10-30"}
    en, he = render("overdue_payments_at_risk", e)
    assert en.why == "1 unpaid invoice, 52 days past due; churn risk 32%"
    assert he.why == ("חשבונית אחת שלא שולמה, באיחור של 52 יום אחרי מועד הפירעון; סיכון נטישה "
                      "32%")
    assert he.next_step.startswith("להתקשר ל-Tal Catering יחד עם מחלקת הכספים:")
    en, _ = render("overdue_payments_at_risk", {**e, "overdue_invoices": 3})
    assert en.why.startswith("3 unpaid invoices past due, the oldest by 52 days;")


def _drop(**changes: object) -> dict[str, object]:
    return {"rep_name": "Noa Malka", "group": "R24", "month": "2026-09-01",
            "month_end": "2026-09-30", "value": 5, "expected": 7.45, "change": -0.329,
            "value_at_stake": 1_100_000.0,
            "customers": [{"customer_id": "C00221", "typical_gap_days": 2.0,
                           "value_at_stake": 1_100_000.0}], **changes}


def test_a_drop_names_its_month_and_one_customer_in_the_singular() -> None:
    """Was "in 2026-09", "vs 7 expected (33% lower)" (5 against 7 is 29%), "1 מלקוחותיו ...
    לא קנו" and the next step "who did not order this month" on 30/10 for September."""
    en, he = render("active_customers_drop", _drop())
    assert en.what == "Active customers of Noa Malka dropped in 09/2026"
    assert en.why == ("5 active customers vs 7.5 expected after seasonality (33% lower); 1 of "
                      "the customers who usually buy at least monthly bought nothing in "
                      "09/2026 (Customer C00221): ₪1.1M at stake")
    assert en.next_step == "Call Customer C00221: ask why nothing was ordered in 09/2026"
    assert he.why.endswith("; לקוח אחד שקונה בדרך כלל לפחות פעם בחודש לא קנה ב-09/2026 "
                           "(לקוח C00221): ₪1.1 מיליון בסיכון")
    assert he.next_step.startswith("להתקשר ללקוח C00221: ")  # known by its code only
    assert "החודש" not in he.next_step and "09/2026" in he.next_step
    # by name where the master data give one; two or more: the call list
    named = _drop(customers=[{"customer_id": "C00221", "name": "Navon Restaurant",
                              "typical_gap_days": 2.0, "value_at_stake": 1_100_000.0}])
    en, _ = render("active_customers_drop", named)
    assert en.why.endswith("bought nothing in 09/2026 (Navon Restaurant): ₪1.1M at stake")
    assert en.next_step == "Call Navon Restaurant: ask why nothing was ordered in 09/2026"
    two = _drop(customers=[*named["customers"], {  # type: ignore[list-item]
        "customer_id": "C9", "typical_gap_days": 20.0, "value_at_stake": 0.0}])
    en, _ = render("active_customers_drop", two)
    assert "(Navon Restaurant, Customer C9)" in en.why
    assert en.next_step == "Call the regular customers who did not order in 09/2026, biggest first"


def test_a_drop_with_no_regular_customer_behind_it_does_not_send_to_call_them() -> None:
    en, he = render("active_customers_drop", _drop(customers=[], expected=3.0, value=0,
                                                   change=-1.0))
    assert en.why == ("0 active customers vs 3 expected after seasonality (100% lower); none of "
                      "the regular customers is behind it (the missing ones buy rarely)")
    assert en.next_step == ("Go through the occasional customers who did not come back in "
                            "09/2026 with the rep")
    assert he.next_step == "לעבור עם הנציג על הלקוחות המזדמנים שלא חזרו ב-09/2026"


def _forecast(**changes: object) -> dict[str, object]:
    return {"rep_name": "Amit Levi", "rep_id": "R06", "period": "2026-10", "forecast": 54_600.0,
            "actual_so_far": 44_100.0, "run_rate_rest": 1_470.0, "weighted_pipeline": 0.0,
            "projected": 45_570.0, "days_left": 1, "days_elapsed": 30, "as_of": "2026-10-30",
            "submitted_at": "2026-10-01T09:00:00", "open_by_category": {}, **changes}


def test_a_forecast_with_one_day_and_no_open_deal_left() -> None:
    """Was "in the 1 days left", "ב-1 הימים שנותרו", "Review the commit deals one by one" for
    a rep with no open deal, and "₪55k; ... ₪44k, ... adds ₪1.5k ...: ₪9.0k short", which does
    not add up as rounded."""
    en, he = render("forecast_at_risk", _forecast())
    assert en.why == ("committed ₪54,600; invoiced so far ₪44,100, and the run rate adds ₪1,470 "
                      "in the last day left: ₪9,030 short")
    assert en.next_step == ("Update the forecast with the rep: no open deal is left to close in "
                            "10/2026")
    assert "ביום האחרון שנותר" in he.why
    en, _ = render("forecast_at_risk", _forecast(days_left=5, open_by_category={"commit": 9e3}))
    assert "in the 5 days left" in en.why
    assert en.next_step.startswith("Review the commit deals one by one")


def test_a_leads_source_in_words() -> None:
    """Was "created 51 days ago from cold" and "(מקור: trade_show)"."""
    e = {"lead_id": "L001815", "age_hours": 51 * 24.0, "sla_hours": 24, "source": "cold",
         "now": "2026-10-30T12:00:00"}
    en, he = render("lead_not_contacted", e)
    assert en.why.startswith("created 51 days ago from cold outreach,")
    assert he.why.startswith("נוצר לפני 51 יום (מקור: פנייה יזומה),")
    _, he = render("lead_not_contacted", {**e, "source": "trade_show"})
    assert "(מקור: תערוכה)" in he.why
    en, he = render("lead_not_contacted", {**e, "source": "Partner portal"})
    assert "from Partner portal," in en.why and "(מקור: Partner portal)" in he.why
    en, _ = render("lead_not_contacted", {**e, "source": None})
    assert "from an unknown source," in en.why


def test_the_rules_note_is_said_once_per_card() -> None:
    """Was the same parenthesis after each of a card's items (three times in one card)."""
    item = {"sku": "S1", "sku_name": "Door mat", "gap_days": 130, "median_gap": 20,
            "longest_gap": 41, "purchases": 7, "last_day": "2010-08-01",
            "value_at_stake": 7_800.0, "scored_by": "gap_rule"}
    items = [item, {**item, "sku": "S2", "sku_name": "Heart"},
             {**item, "sku": "S3", "sku_name": "Cats"}]
    e = {"customer_id": "12346", "items": items, "value_at_stake": 23_400.0,
         "as_of": "2010-12-09"}
    en, he = render("stopped_item", e)
    assert en.why.count("did not beat") == 1 and en.why.endswith(
        "(each gap over twice its usual and longer than any before: the stopped-items model "
        "did not beat this rule on "
        "this data)")
    assert he.why.count("לא גבר") == 1
    assert "נקנה ב-7 ימים שונים" in he.why  # seven purchase days, not a week
    # items scored before the longest gap was kept: the rule as it then was, nothing unclaimed
    older = [{k: v for k, v in i.items() if k != "longest_gap"} for i in items]
    en, he = render("stopped_item", {**e, "items": older})
    assert en.why.endswith("(each gap over twice its usual: the stopped-items model did not "
                           "beat this rule on this data)")
    assert "וארוך מכל פער קודם" not in he.why


def test_hebrew_messages_keep_signed_numbers_left_to_right() -> None:
    """A Hebrew email or chat message shows "-20.5%", not "20.5%-": each left-to-right run is
    isolated (Unicode isolates in the text, ``<bdi>`` in the HTML)."""
    insight = replace(make_insight("C-1", kind=Kind.MARGIN_EROSION), he=Texts(
        "שחיקת רווחיות אצל C-1", "רווח גולמי -20.5% לעומת 27.5%", "לבדוק הנחות"))
    store = memory_store()
    store.upsert_many([insight], T0)
    (stored,) = store.list_insights()
    with use_currency("ILS"):
        message = render_push("k", stored, Person("m1", "Moshe", "m@example.com", lang="he"))
    assert "רווח גולמי \u2066-20.5%\u2069 לעומת \u206627.5%\u2069" in message.text
    assert 'רווח גולמי <bdi dir="ltr">-20.5%</bdi>' in message.html
    english = render_push("k", stored, Person("r1", "Dana", "d@example.com"))
    assert "\u2066" not in english.text and "<bdi" not in english.html


def test_this_season_last_year_is_named_by_its_dates() -> None:
    """Was "no order in the same 90 days a year ago", read as the last 90 days a year ago;
    it is the 90 days ahead, a year earlier (the features' ``orders_last_season``)."""
    t = terms_of({"customer_id": "TC", "as_of": "2019-12-30", "last_order": "2019-01-05",
                  "days_since_last_order": 359})
    c = {"orders_last_season": 0.0, "tenure_days": 900.0}
    text, claims = reason_words("season", c, t, 90)
    assert text == "no order in this season last year (31/12/2018 to 30/03/2019)"
    assert claims[1]["from"] == dt.date(2018, 12, 31).isoformat()
    assert claims[1]["to"] == dt.date(2019, 3, 30).isoformat()
    text, _ = reason_words("season", c, t, 90, lang="he")
    assert text == "לא הזמין בעונה הזו בשנה שעברה (31/12/2018 עד 30/03/2019)"


def test_two_orders_then_a_long_silence_is_a_win_back_call() -> None:
    """Was "has not reordered in 392 days" with "ask how the last orders went"."""
    e = {"customer_id": "455", "customer_name": "Super Scale Inc.", "as_of": "2005-05-31",
         "last_order": "2004-05-04", "previous_order": "2003-11-26", "purchase_days": 2,
         "days_since_last_order": 392, "value_at_stake": 70_000.0, "churn_probability": 0.8,
         "situation": "not_reordered", "lost": False, "long_silent": True}
    en, he = render("churn_risk", e)
    assert en.what == "Super Scale Inc. has not reordered in 392 days"
    assert en.next_step.startswith("Plan a win-back call to Super Scale Inc.")
    assert he.next_step.startswith("לתכנן שיחת החזרה")
    en, _ = render("churn_risk", {**e, "long_silent": False, "days_since_last_order": 60,
                                  "last_order": "2005-04-01"})
    assert en.next_step.startswith("Call Super Scale Inc.: ask how the last orders went")
