"""What ERP and CRM exports call each canonical column, in Hebrew and English.

The mapping detector (:mod:`salesradar.io.detect`) compares a file's headers with these names
after :func:`header_key` has folded case, quotes (``מק"ט``, ``מק״ט``), punctuation, underscores
and camelCase away, so ``Item No.``, ``item_no`` and ``ItemNo`` are one name. A header equal to
a synonym is a strong match; a header that contains one as whole words (``תאריך ערך``,
``Order Date (UTC)``) a weaker one.

The names are per canonical column; :data:`TABLE_SYNONYMS` adds or replaces them for a column of
one table where a word means something else there (``amount`` of a deal, ``date`` of a payment).
"""

from __future__ import annotations

import re

CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
NOT_WORD = re.compile(r"[^\w]+|_+")
QUOTES = re.compile("[\"'`״׳\u2018\u2019\u201c\u201d]")


def header_key(header: str) -> str:
    """A header as words: lower case, no quotes, punctuation and underscores as spaces.

    >>> header_key('מק"ט'), header_key("Item No."), header_key("CustomerID"), header_key("סה״כ")
    ('מקט', 'item no', 'customer id', 'סהכ')
    """
    text = QUOTES.sub("", header.replace("\ufeff", "").strip())
    text = CAMEL_BOUNDARY.sub(" ", text)
    return " ".join(NOT_WORD.sub(" ", text).lower().split())


COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "invoice_id": (
        "invoice", "invoice id", "invoice no", "invoice number", "invoice num", "inv no",
        "document", "document no", "document number", "doc no", "doc num", "doc number",
        "doc entry", "bill no", "order id", "order no", "order number", "sales order",
        "חשבונית", "מס חשבונית", "מספר חשבונית", "חשבונית מס", "מסמך", "מס מסמך", "מספר מסמך",
        "אסמכתא", "מס אסמכתא", "מספר אסמכתא", "הזמנה", "מס הזמנה", "מספר הזמנה",
    ),
    "line_no": (
        "line", "line no", "line number", "line num", "line id", "row", "row no",
        "order line number", "שורה", "מס שורה", "מספר שורה",
    ),
    "invoice_date": (
        "date", "invoice date", "document date", "doc date", "order date", "transaction date",
        "posting date", "sale date", "sales date", "bill date",
        "תאריך", "תאריך חשבונית", "תאריך מסמך", "תאריך אסמכתא", "תאריך הזמנה", "ת חשבונית",
        "תאריך ערך",
    ),
    "customer_id": (
        "customer", "customer id", "customer no", "customer number", "customer code",
        "customer num", "client", "client id", "client no", "client code", "account",
        "account id", "account no", "account number", "card code", "company id", "buyer",
        "לקוח", "מס לקוח", "מספר לקוח", "קוד לקוח", "מפתח לקוח", "מפתח חשבון", "חשבון",
        "מס חשבון", "מספר חשבון",
    ),
    "sku": (
        "sku", "item", "item code", "item no", "item number", "item id", "product",
        "product id", "product code", "product no", "product number", "stock code",
        "part", "part no", "part number", "article", "article no", "material", "catalog no",
        "מקט", "פריט", "קוד פריט", "מספר פריט", "מס פריט", "מפתח פריט", "קוד מוצר", "מוצר",
        "מספר קטלוגי",
    ),
    "quantity": (
        "qty", "quantity", "units", "quantity ordered", "qty ordered", "qty sold", "units sold",
        "pieces", "pcs", "כמות", "כמות יחידות", "יחידות", "כמות בפועל",
    ),
    "net_revenue": (
        "amount", "line total", "line amount", "total", "net", "net amount", "net total",
        "net revenue", "net sales", "revenue", "sales", "sales amount", "value", "line value",
        "extended price", "ext price", "סהכ", "סכום", "סהכ מחיר", "סכום שורה", "סהכ שורה",
        "סהכ לפני מעמ", "סכום לפני מעמ", "סכום נטו", "נטו", "מחזור", "הכנסה", "פדיון",
    ),
    "cost": (
        "cost", "line cost", "total cost", "cogs", "cost of goods", "cost amount",
        "עלות", "עלות שורה", "סהכ עלות", "עלות כוללת",
    ),
    "rep_id": (
        "rep", "rep id", "rep code", "sales rep", "sales rep id", "salesperson",
        "sales person", "salesman", "sales agent", "agent", "agent code", "owner",
        "sales employee", "slp code", "employee", "employee id", "sales rep employee number",
        "סוכן", "מס סוכן", "קוד סוכן", "מספר סוכן", "שם סוכן", "איש מכירות", "נציג",
        "נציג מכירות",
    ),
    "channel": ("channel", "sales channel", "ערוץ", "ערוץ מכירה", "ערוץ מכירות"),
    "description": (
        "description", "item description", "item name", "product name", "product description",
        "item desc", "תאור", "תיאור", "תאור מוצר", "תיאור מוצר", "תאור פריט", "תיאור פריט",
        "שם פריט", "שם מוצר",
    ),
    "name": ("name", "full name", "שם", "שם מלא"),
    "industry": ("industry", "sector", "vertical", "ענף", "תחום"),
    "region": ("region", "area", "territory", "country", "country region", "אזור", "מחוז",
               "איזור"),
    "segment": ("segment", "customer segment", "tier", "סגמנט", "פלח", "סיווג"),
    "created_at": ("created", "created at", "create date", "created date", "creation date",
                   "date created", "open date", "תאריך יצירה", "תאריך פתיחה", "נוצר"),
    "potential": ("potential", "annual revenue", "wallet", "annual potential", "פוטנציאל"),
    "category": ("category", "product category", "product line", "family", "product family",
                 "group", "item group", "קטגוריה", "משפחה", "משפחת מוצר", "קבוצה",
                 "קבוצת פריט"),
    "unit_cost": ("unit cost", "cost", "standard cost", "buy price", "purchase price",
                  "cost price", "עלות", "עלות ליחידה", "מחיר קניה", "מחיר עלות"),
    "list_price": ("list price", "price", "unit price", "sales price", "msrp", "price list",
                   "מחיר", "מחיר מחירון", "מחיר ליחידה", "מחיר מכירה"),
    "active": ("active", "is active", "enabled", "פעיל"),
    "email": ("email", "e mail", "mail", "email address", "דואל", "אימייל", "מייל",
              "דואר אלקטרוני"),
    "team": ("team", "sales team", "group", "צוות", "קבוצה"),
    "manager_id": ("manager", "manager id", "reports to", "supervisor", "מנהל", "מנהל ישיר"),
    "role": ("role", "title", "job title", "position", "תפקיד"),
    "model": ("model", "operating model", "team model"),
    "active_from": ("active from", "start date", "hire date", "from", "מתאריך",
                    "תאריך התחלה", "תאריך תחילת עבודה"),
    "active_to": ("active to", "end date", "termination date", "to", "עד תאריך", "תאריך סיום"),
    "period": ("period", "month", "quarter", "year", "תקופה", "חודש", "רבעון", "שנה"),
    "grain": ("grain", "period type", "סוג תקופה"),
    "kind": ("kind", "type", "activity type", "cost type", "סוג", "סוג פעילות", "סוג עלות"),
    "amount": ("amount", "total", "value", "sum", "סכום", "סהכ"),
    "due_date": ("due date", "due", "payment due", "תאריך פירעון", "תאריך לתשלום",
                 "מועד תשלום"),
    "paid_date": ("paid date", "payment date", "date paid", "paid on", "תאריך תשלום",
                  "תאריך תקבול", "שולם בתאריך"),
    "contact_id": ("contact", "contact id", "contact no", "person id", "איש קשר",
                   "מס איש קשר"),
    "level": ("level", "contact level", "seniority", "דרג", "רמה"),
    "last_activity_at": ("last activity", "last activity date", "last contacted",
                         "last engagement", "פעילות אחרונה", "תאריך פעילות אחרונה"),
    "lead_id": ("lead", "lead id", "lead no", "ליד", "מס ליד", "מספר ליד"),
    "source": ("source", "lead source", "original source", "channel", "מקור", "מקור ליד"),
    "owner_rep_id": ("owner", "owner id", "lead owner", "deal owner", "sales rep", "rep",
                     "salesperson", "sales agent", "agent", "assigned to", "סוכן", "נציג",
                     "בעלים", "אחראי"),
    "status": ("status", "lead status", "state", "סטטוס", "מצב"),
    "deal_id": ("deal", "deal id", "opportunity", "opportunity id", "opportunity no",
                "הזדמנות", "מס הזדמנות", "עסקה", "מס עסקה"),
    "pipeline": ("pipeline", "sales pipeline", "צנרת", "משפך"),
    "stage": ("stage", "deal stage", "opportunity stage", "sales stage", "שלב", "שלב עסקה"),
    "close_date": ("close date", "closed date", "closing date", "expected close date",
                   "close", "תאריך סגירה", "תאריך סגירה צפוי"),
    "outcome": ("outcome", "result", "won lost", "win loss", "תוצאה"),
    "forecast_category": ("forecast category", "forecast", "קטגוריית תחזית"),
    "lost_reason": ("lost reason", "closed lost reason", "loss reason", "reason lost",
                    "סיבת הפסד"),
    "entered_at": ("entered at", "date entered", "entered", "changed at", "change date",
                   "date", "timestamp", "תאריך", "תאריך כניסה"),
    "at": ("at", "date", "activity date", "timestamp", "time", "date time", "when",
           "תאריך", "מועד", "תאריך פעילות"),
    "duration_s": ("duration", "duration s", "duration seconds", "seconds", "call duration",
                   "משך", "משך שיחה"),
    "metric": ("metric", "kpi", "measure", "מדד"),
    "value": ("value", "target", "goal", "quota", "יעד", "ערך"),
    "submitted_at": ("submitted at", "submitted", "submission date", "date", "תאריך הגשה"),
    "measure": ("measure", "forecast measure"),
}

# a column of one table where a word means something else than elsewhere
TABLE_SYNONYMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("customers", "name"): ("name", "customer name", "company name", "company", "account name",
                            "client name", "שם", "שם לקוח", "שם חברה", "שם חשבון"),
    ("customers", "rep_id"): COLUMN_SYNONYMS["rep_id"] + ("company owner", "account owner",
                                                          "customer owner"),
    ("products", "name"): ("name", "product name", "item name", "description",
                            "שם", "שם פריט", "שם מוצר", "תאור", "תיאור", "תאור פריט"),
    ("reps", "rep_id"): COLUMN_SYNONYMS["rep_id"] + ("id", "employee no", "employee number",
                                                     "user id", "מס עובד", "מספר עובד"),
    ("reps", "name"): ("name", "full name", "rep name", "employee name", "sales agent",
                       "salesperson", "שם", "שם סוכן", "שם עובד"),
    ("deals", "amount"): ("amount", "deal amount", "value", "deal value", "close value",
                          "expected revenue", "revenue", "סכום", "סכום עסקה", "שווי"),
    ("deals", "created_at"): COLUMN_SYNONYMS["created_at"] + ("engage date", "open date",
                                                              "start date"),
    ("deals", "customer_id"): COLUMN_SYNONYMS["customer_id"] + ("company",),
    ("payments", "amount"): ("amount", "paid amount", "payment amount", "sum", "total",
                             "סכום", "סכום תשלום", "סהכ"),
    ("payments", "invoice_id"): COLUMN_SYNONYMS["invoice_id"] + (
        "check number", "cheque number", "check no", "cheque no", "receipt", "receipt no",
        "payment id", "קבלה", "מס קבלה", "מספר קבלה", "מס צק", "מספר צק"),
    ("payments", "paid_date"): COLUMN_SYNONYMS["paid_date"] + ("date", "תאריך"),
    ("contacts", "customer_id"): COLUMN_SYNONYMS["customer_id"] + ("company",),
    ("leads", "created_at"): COLUMN_SYNONYMS["created_at"] + ("date", "תאריך"),
    ("cost_to_serve", "amount"): ("amount", "cost", "value", "sum", "סכום", "עלות"),
    ("forecast_submissions", "amount"): ("amount", "forecast", "forecast amount", "value",
                                         "סכום", "תחזית"),
}

# source columns a missing net revenue or cost can be computed from
UNIT_PRICE = ("unit price", "price", "price each", "unit net price", "net price", "sales price",
              "מחיר", "מחיר ליחידה", "מחיר יחידה", "מחיר נטו")
UNIT_COST = ("unit cost", "cost per unit", "stock price", "buy price", "standard cost",
             "עלות ליחידה", "עלות יחידה", "מחיר עלות")
PROFIT = ("profit", "gross profit", "margin", "רווח", "רווח גולמי")


def synonyms(table_name: str, column: str) -> tuple[str, ...]:
    """The header keys (see :func:`header_key`) that name ``column`` of ``table_name``."""
    names = TABLE_SYNONYMS.get((table_name, column)) or COLUMN_SYNONYMS.get(column, ())
    return tuple(dict.fromkeys((header_key(column), *(header_key(n) for n in names))))


def header_score(key: str, names: tuple[str, ...]) -> float:
    """How well a header key names a column: 1 equal to a synonym, 0.6 containing one as whole
    words (the longest synonym found decides), else 0."""
    if key in names:
        return 1.0
    padded = f" {key} "
    found = [n for n in names if len(n) > 2 and f" {n} " in padded]
    return 0.6 if found else 0.0
