"""The words of the data-in and refresh pages (English, Hebrew), and how they show a stage and
a time. Registered with :func:`salesradar.web.i18n.register` at import."""

from __future__ import annotations

from datetime import datetime

from salesradar.web import i18n

WORDS: dict[str, tuple[str, str]] = {
    # -- data in ---------------------------------------------------------------------------
    "din_title": ("Data in", "קליטת נתונים"),
    "din_intro": ("Upload a CSV, TXT, Excel or Parquet file for one table. salesradar proposes "
                  "which of its columns is which; check it, correct what is wrong, and import. "
                  "An import is all or nothing: a file with bad rows loads nothing and lists "
                  "every bad row.",
                  "העלו קובץ CSV, TXT, Excel או Parquet לטבלה אחת. salesradar מציע איזו עמודה "
                  "בקובץ היא מה; בדקו, תקנו את מה שלא נכון, וקלטו. קליטה היא הכול או כלום: "
                  "קובץ עם שורות שגויות לא נקלט כלל, וכל שורה שגויה מוצגת."),
    "din_table": ("Table", "טבלה"),
    "din_file": ("File", "קובץ"),
    "din_upload": ("Upload and propose a mapping", "העלאה והצעת מיפוי"),
    "din_limit": ("Files up to {size}.", "קבצים עד {size}."),
    "din_too_large": ("The file is larger than the upload limit of {size}.",
                      "הקובץ גדול ממגבלת ההעלאה של {size}."),
    "din_upload_failed": ("The upload failed; try again.", "ההעלאה נכשלה; נסו שוב."),
    "din_saved": ("Saved mappings", "מיפויים שמורים"),
    "din_no_saved": ("None yet: a mapping is saved when its file imports.",
                     "אין עדיין: מיפוי נשמר כשהקובץ שלו נקלט."),
    "din_delete": ("Delete", "מחיקה"),
    "din_name": ("Name", "שם"),
    "din_updated": ("Saved", "נשמר"),
    "din_by": ("By", "על ידי"),
    "din_proposal": ("Proposed mapping", "מיפוי מוצע"),
    "din_preview": ("The first rows as salesradar will read them",
                    "השורות הראשונות כפי ש-salesradar יקרא אותן"),
    "din_column": ("Column", "עמודה"),
    "din_source": ("From the file's column", "מעמודת הקובץ"),
    "din_confidence": ("Confidence", "ודאות"),
    "din_reason": ("Why", "סיבה"),
    "din_keep": ("as proposed", "כמוצע"),
    "din_none": ("— not in this file —", "— לא בקובץ —"),
    "din_ambiguous": ("ambiguous: also possible {alts}", "לא חד-משמעי: ייתכן גם {alts}"),
    "din_low": ("check this one", "כדאי לבדוק"),
    "din_required": ("required", "חובה"),
    "din_missing": ("Required and not found: {cols}. Choose their columns below.",
                    "עמודות חובה שלא נמצאו: {cols}. בחרו את העמודות שלהן למטה."),
    "din_shipped": ("Recognized: the shipped {name} export.", "זוהה: ייצוא מוכר ({name})."),
    "din_saved_match": ("Recognized: your saved mapping “{name}”.",
                        "זוהה: המיפוי השמור „{name}”."),
    "din_formats": ("Read as", "נקרא כ"),
    "din_encoding": ("encoding", "קידוד"),
    "din_delimiter": ("delimiter", "מפריד"),
    "din_dates": ("dates", "תאריכים"),
    "din_rows_shown": ("{n} rows shown", "מוצגות {n} שורות"),
    "din_apply": ("Apply corrections", "החלת התיקונים"),
    "din_import": ("Import", "קליטה"),
    "din_save_as": ("Save this mapping for the next file of this source, as",
                    "שמירת המיפוי לקובץ הבא של מקור זה, בשם"),
    "din_notes": ("Notes", "הערות"),
    "din_job_title": ("Import of {file}", "קליטת {file}"),
    "din_running": ("Importing into {table}…", "קליטה לטבלה {table}…"),
    "din_stage": ("Stage", "שלב"),
    "din_elapsed": ("{seconds} s so far", "{seconds} שניות עד כה"),
    "din_reload": ("Reload to see the progress", "רענון להצגת ההתקדמות"),
    "din_done": ("Imported {rows} rows into {table}: {inserted} new, {updated} updated, "
                 "{unchanged} unchanged, {skipped} skipped.",
                 "נקלטו {rows} שורות לטבלה {table}: {inserted} חדשות, {updated} עודכנו, "
                 "{unchanged} ללא שינוי, {skipped} דולגו."),
    "din_rejected": ("{count} error(s): nothing was imported. Correct the file or the "
                     "mapping and import again.",
                     "{count} שגיאות: דבר לא נקלט. תקנו את הקובץ או את המיפוי וקלטו שוב."),
    "din_failed": ("The import failed: {error}", "הקליטה נכשלה: {error}"),
    "din_errors_csv": ("Download the errors as CSV", "הורדת השגיאות כ-CSV"),
    "din_back_mapping": ("Correct the mapping", "תיקון המיפוי"),
    "din_another": ("Upload another file", "העלאת קובץ נוסף"),
    "din_then_refresh": ("Run the refresh so that scores and insights use the new data.",
                         "הריצו רענון כדי שהציונים והתובנות ישתמשו בנתונים החדשים."),
    "din_row": ("Row", "שורה"),
    "din_value": ("Value", "ערך"),
    "din_problem": ("Problem", "בעיה"),
    "din_hint": ("How to fix", "איך לתקן"),
    "din_rows": ("Rows", "שורות"),
    "din_warnings": ("Warnings", "אזהרות"),
    "din_saved_as": ("Mapping saved as “{name}”: the next file of this source is recognized.",
                     "המיפוי נשמר בשם „{name}”: הקובץ הבא של מקור זה יזוהה."),
    "din_uploaded": ("Uploaded file", "קובץ שהועלה"),
    "din_last_import": ("Last import", "קליטה אחרונה"),
    "din_incomplete": ("Choose a column for every required one before importing.",
                       "יש לבחור עמודה לכל עמודת חובה לפני הקליטה."),
    # -- refresh ---------------------------------------------------------------------------
    "rf_title": ("Refresh", "רענון"),
    "rf_intro": ("A refresh scores every model, updates the insights, measures their outcomes "
                 "and delivers what is due. Pages keep showing the last data until it ends.",
                 "רענון מחשב את כל המודלים, מעדכן את התובנות, מודד את תוצאותיהן ושולח את "
                 "מה שצריך. הדפים ממשיכים להציג את הנתונים האחרונים עד שהוא מסתיים."),
    "rf_now": ("Refresh now", "רענון עכשיו"),
    "rf_running": ("A refresh is running", "רענון פועל כעת"),
    "rf_busy_refresh": ("A refresh is already running; wait until it is done.",
                        "רענון כבר פועל; יש להמתין לסיומו."),
    "rf_busy_import": ("An import is already running; wait until it is done.",
                       "קליטת קובץ כבר פועלת; יש להמתין לסיומה."),
    "rf_started_ok": ("The refresh started.", "הרענון התחיל."),
    "rf_runs": ("Last runs", "הרצות אחרונות"),
    "rf_started": ("Started", "התחיל"),
    "rf_duration": ("Duration", "משך"),
    "rf_status": ("Status", "מצב"),
    "rf_trigger": ("Started by", "הופעל על ידי"),
    "rf_counts": ("Result", "תוצאה"),
    "rf_no_runs": ("No refresh yet.", "עדיין לא היה רענון."),
    "rf_result": ("{new} new insights, {total} open, {resolved} resolved; {sent} messages sent",
                  "{new} תובנות חדשות, {total} פתוחות, {resolved} נסגרו; {sent} הודעות נשלחו"),
    "rf_unchanged": ("nothing had changed since the refresh before: its results were kept",
                     "לא היה שינוי מאז הרענון הקודם: התוצאות שלו נשמרו"),
    "rf_seconds": ("{n} s", "{n} ש׳"),
    "rf_status_running": ("running", "פועל"),
    "rf_status_done": ("done", "הסתיים"),
    "rf_status_failed": ("failed", "נכשל"),
    "rf_status_rejected": ("rejected", "נדחה"),
    "rf_status_interrupted": ("interrupted (the server stopped)", "נקטע (השרת נעצר)"),
    "rf_trigger_now": ("by hand", "ידנית"),
    "rf_trigger_schedule": ("schedule", "תזמון"),
    "rf_trigger_api": ("API", "API"),
    "rf_schedule": ("Schedule", "תזמון"),
    "rf_schedule_intro": ("The server runs the refresh by itself at this time every day "
                          "(server time {now}).",
                          "השרת מריץ את הרענון בעצמו בשעה זו בכל יום (שעת השרת {now})."),
    "rf_sched_off": ("Off", "כבוי"),
    "rf_sched_daily": ("Daily", "מדי יום"),
    "rf_sched_at": ("At", "בשעה"),
    "rf_sched_save": ("Save the schedule", "שמירת התזמון"),
    "rf_sched_now": ("Now: {text}.", "כעת: {text}."),
    "rf_sched_text_off": ("off", "כבוי"),
    "rf_sched_text_daily": ("daily at {at}", "מדי יום בשעה {at}"),
    "rf_sched_saved": ("Schedule saved.", "התזמון נשמר."),
    "rf_progress": ("Progress", "התקדמות"),
    "rf_last": ("Last refresh", "רענון אחרון"),
    # -- stages ----------------------------------------------------------------------------
    "stage_starting": ("starting (copying the data)", "מתחיל (העתקת הנתונים)"),
    "stage_importing": ("importing", "קליטה"),
    "stage_scoring": ("scoring", "חישוב ציונים"),
    "stage_insights": ("insights", "תובנות"),
    "stage_outcomes": ("outcomes", "תוצאות"),
    "stage_publishing": ("publishing", "פרסום"),
    "stage_delivering": ("delivering", "שליחה"),
    "stage_done": ("done", "הסתיים"),
    "stage_reading": ("reading the file", "קריאת הקובץ"),
    "stage_checking": ("checking every row", "בדיקת כל השורות"),
    "stage_writing": ("writing", "כתיבה"),
}
i18n.register(WORDS)


def stage_text(stage: str | None, lang: str) -> str:
    """``scoring: churn`` -> "scoring: churn" in ``lang`` (the model's name kept)."""
    if not stage:
        return "–"
    base, _, rest = stage.partition(":")
    key = f"stage_{base.strip()}"
    words = i18n.t(key, lang) if key in i18n.MESSAGES else base
    return f"{words}: {rest.strip()}" if rest else words


def time_text(iso: str | None) -> str:
    """An ISO time as the server's local ``dd/mm/yyyy HH:MM``."""
    if not iso:
        return "–"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return iso


def schedule_text(mode: str, at: str, lang: str) -> str:
    return i18n.t("rf_sched_text_off", lang) if mode == "off" else \
        i18n.t("rf_sched_text_daily", lang, at=at)
