"""The words of the administration pages and of the 360's account plan, in English and Hebrew
(registered with :func:`salesradar.web.i18n.register` at import).

>>> from salesradar.web.i18n import t
>>> t("adm_users", "he")
'משתמשים'
"""

from __future__ import annotations

from salesradar.web import i18n

WORDS: dict[str, tuple[str, str]] = {
    # the hub
    "adm_title": ("Administration", "ניהול מערכת"),
    "adm_users": ("Users", "משתמשים"),
    "adm_users_line": ("Who may log in, their role, rep id, team and language.",
                       "מי רשאי להתחבר, התפקיד, מזהה הנציג, הצוות והשפה."),
    "adm_users_count": ("{n} active, {off} disabled", "{n} פעילים, {off} מושבתים"),
    "adm_settings": ("Company settings", "הגדרות החברה"),
    "adm_settings_line": ("Currency, fiscal year, thresholds of the insights and more.",
                          "מטבע, שנת כספים, ספי התובנות ועוד."),
    "adm_settings_count": ("{n} settings, {changed} changed from the default",
                           "{n} הגדרות, {changed} שונו מברירת המחדל"),
    "adm_channels": ("Delivery channels", "ערוצי שליחה"),
    "adm_channels_line": ("E-mail, Slack, Teams, webhook and HubSpot: a test message and the "
                          "outbox.", "דוא\"ל, Slack,‏ Teams,‏ webhook ו-HubSpot: הודעת ניסיון "
                          "ותור השליחה."),
    "adm_channels_count": ("{n} configured", "{n} מוגדרים"),
    "adm_targets": ("Targets", "יעדים"),
    "adm_targets_line": ("Sales targets per rep or team and period.",
                         "יעדי מכירות לכל נציג או צוות ולכל תקופה."),
    "adm_targets_count": ("{n} set in the app", "{n} הוגדרו במערכת"),
    "adm_commissions": ("Commission plans", "תוכניות עמלות"),
    "adm_commissions_line": ("Rate tiers, accelerators and caps, written as YAML.",
                             "מדרגות תעריף, מאיצים ותקרות, בכתיבת YAML."),
    "adm_commissions_count": ("{n} plans", "{n} תוכניות"),
    "adm_commitments": ("Vendor commitments", "התחייבויות ספקים"),
    "adm_commitments_line": ("What an outside vendor promised, its baseline, status and verdict.",
                             "מה ספק חיצוני התחייב, קו הבסיס, המצב וההכרעה."),
    "adm_commitments_count": ("{n} recorded", "{n} רשומות"),
    "adm_audit": ("Audit log", "יומן שינויים"),
    "adm_audit_line": ("Who changed what and when.", "מי שינה מה ומתי."),
    "adm_audit_count": ("{n} changes", "{n} שינויים"),
    "adm_data": ("Data in", "קליטת נתונים"),
    "adm_data_line": ("Upload files from the ERP or CRM.", "העלאת קבצים ממערכת ה-ERP או ה-CRM."),
    "adm_refresh": ("Refresh", "רענון נתונים"),
    "adm_refresh_line": ("Recompute KPIs, scores and insights now or on a schedule.",
                         "חישוב מחדש של מדדים, ציונים ותובנות, עכשיו או לפי לוח זמנים."),
    "adm_back": ("Administration", "חזרה לניהול המערכת"),
    "adm_save": ("Save", "שמירה"),
    "adm_saved": ("Saved.", "נשמר."),
    "adm_error": ("Not saved", "לא נשמר"),
    "adm_none": ("None yet.", "אין עדיין."),
    # users
    "adm_add_user": ("Add a user", "הוספת משתמש"),
    "adm_role": ("Role", "תפקיד"),
    "adm_role_admin": ("Administrator", "מנהל מערכת"),
    "adm_role_manager": ("Manager", "מנהל צוות"),
    "adm_role_rep": ("Rep", "נציג"),
    "adm_rep_id": ("Rep id", "מזהה נציג"),
    "adm_team": ("Team", "צוות"),
    "adm_lang": ("Language", "שפה"),
    "adm_lang_en": ("English", "אנגלית"),
    "adm_lang_he": ("Hebrew", "עברית"),
    "adm_state": ("State", "מצב"),
    "adm_active": ("Active", "פעיל"),
    "adm_disabled": ("Disabled", "מושבת"),
    "adm_disable": ("Disable", "השבתה"),
    "adm_enable": ("Enable", "הפעלה מחדש"),
    "adm_change": ("Change", "שינוי"),
    "adm_new_password": ("New password", "סיסמה חדשה"),
    "adm_set_password": ("Set the password", "קביעת סיסמה"),
    "adm_password_note": ("At least 8 characters; a new password ends the user's sessions and "
                          "API tokens.", "לפחות 8 תווים; סיסמה חדשה מנתקת את המשתמש מכל "
                          "החיבורים ומבטלת את מפתחות ה-API שלו."),
    "adm_you": ("(you)", "(את/ה)"),
    # settings
    "adm_key": ("Setting", "הגדרה"),
    "adm_value": ("Value", "ערך"),
    "adm_default": ("Default", "ברירת מחדל"),
    "adm_description": ("What it does", "מה היא קובעת"),
    "adm_reset": ("Back to the default", "חזרה לברירת המחדל"),
    "adm_changed": ("changed", "שונה"),
    # channels
    "adm_channel": ("Channel", "ערוץ"),
    "adm_kind": ("Kind", "סוג"),
    "adm_address": ("Sends to", "יעד השליחה"),
    "adm_no_channels": ("No channel is configured. Channels are set in the server's environment "
                        "(SALESRADAR_SMTP_HOST, SALESRADAR_SLACK_WEBHOOK_URL, "
                        "SALESRADAR_TEAMS_WEBHOOK_URL, SALESRADAR_WEBHOOK_URL, "
                        "SALESRADAR_HUBSPOT_TOKEN); restart the server after setting them.",
                        "לא הוגדר אף ערוץ. הערוצים נקבעים במשתני הסביבה של השרת "
                        "(SALESRADAR_SMTP_HOST,‏ SALESRADAR_SLACK_WEBHOOK_URL,‏ "
                        "SALESRADAR_TEAMS_WEBHOOK_URL,‏ SALESRADAR_WEBHOOK_URL,‏ "
                        "SALESRADAR_HUBSPOT_TOKEN); יש להפעיל את השרת מחדש אחרי הקביעה."),
    "adm_channel_error": ("The channel settings are wrong", "הגדרות הערוצים שגויות"),
    "adm_test_email": ("E-mail address for the test", "כתובת דוא\"ל לניסיון"),
    "adm_send_test": ("Send a test message", "שליחת הודעת ניסיון"),
    "adm_test_sent": ("The test message was sent on {channel}.",
                      "הודעת הניסיון נשלחה בערוץ {channel}."),
    "adm_test_failed": ("The test message on {channel} failed: {reason}",
                        "הודעת הניסיון בערוץ {channel} נכשלה: {reason}"),
    "adm_test_subject": ("salesradar: a test message", "salesradar: הודעת ניסיון"),
    "adm_test_text": ("This is a test message sent by {who} from the administration pages. "
                      "If you can read it, the channel works.",
                      "זו הודעת ניסיון שנשלחה על ידי {who} מדפי ניהול המערכת. אם היא הגיעה "
                      "אליך, הערוץ תקין."),
    "adm_outbox": ("Outbox", "תור השליחה"),
    "adm_outbox_sent": ("Sent", "נשלחו"),
    "adm_outbox_failed": ("Failed", "נכשלו"),
    "adm_outbox_retrying": ("Waiting to retry", "ממתינות לניסיון חוזר"),
    "adm_outbox_pending": ("Waiting to be sent", "ממתינות לשליחה"),
    "adm_outbox_unknown": ("Unknown (may have arrived)", "לא ידוע (ייתכן שהגיעו)"),
    "adm_outbox_latest": ("Latest messages", "ההודעות האחרונות"),
    "adm_recipient": ("Recipient", "נמען"),
    "adm_attempts": ("Attempts", "ניסיונות"),
    "adm_when": ("When", "מתי"),
    "adm_last_error": ("Last error", "השגיאה האחרונה"),
    # targets
    "adm_add_target": ("Set a target", "קביעת יעד"),
    "adm_for": ("For", "עבור"),
    "adm_for_rep": ("a rep", "נציג"),
    "adm_for_team": ("a team", "צוות"),
    "adm_who": ("Rep id or team", "מזהה נציג או שם צוות"),
    "adm_period": ("Period", "תקופה"),
    "adm_period_hint": ("e.g. 2026-11, 2026Q4 or 2026", "למשל 2026-11,‏ 2026Q4 או 2026"),
    "adm_metric": ("Metric", "מדד"),
    "adm_target_value": ("Target", "יעד"),
    "adm_source": ("Source", "מקור"),
    "adm_source_app": ("set here", "הוגדר כאן"),
    "adm_source_imported": ("imported", "יובא"),
    "adm_upload_targets": ("Upload targets (CSV)", "העלאת יעדים (CSV)"),
    "adm_upload_hint": ("Columns: rep_id or team, period, metric, value. Every row is checked "
                        "before any is saved.", "עמודות: rep_id או team,‏ period,‏ metric,‏ "
                        "value. כל השורות נבדקות לפני שמשהו נשמר."),
    "adm_file": ("File", "קובץ"),
    "adm_upload": ("Upload", "העלאה"),
    "adm_show_period": ("Show", "הצגה"),
    # commissions
    "adm_plan_name": ("Plan", "תוכנית"),
    "adm_plan_yaml": ("The plan as YAML", "התוכנית בכתיבת YAML"),
    "adm_grain": ("Measured per", "נמדדת לפי"),
    "adm_cap": ("Cap", "תקרה"),
    "adm_metrics": ("Metrics", "מדדים"),
    "adm_edit": ("Edit", "עריכה"),
    "adm_new_plan": ("New or changed plan", "תוכנית חדשה או מעודכנת"),
    # commitments
    "adm_new_commitment": ("Record a commitment", "רישום התחייבות"),
    "adm_c_name": ("Name", "שם"),
    "adm_c_vendor": ("Vendor", "ספק"),
    "adm_c_model": ("Commercial model", "מודל התמחור"),
    "adm_model_success_fee": ("Success fee", "דמי הצלחה"),
    "adm_model_hybrid": ("Hybrid: fixed + bonus", "היברידי: קבוע ובונוס"),
    "adm_model_kpi": ("KPI commitment", "התחייבות למדד"),
    "adm_model_revenue": ("Revenue commitment", "התחייבות להכנסות"),
    "adm_c_metric": ("Metric (KPI)", "מדד"),
    "adm_c_improvement": ("Improvement, %", "שיפור, באחוזים"),
    "adm_c_start": ("Start", "התחלה"),
    "adm_c_end": ("End", "סיום"),
    "adm_c_source": ("Data source", "מקור הנתונים"),
    "adm_c_source_hint": ("e.g. ERP invoices, CRM", "למשל חשבוניות ERP,‏ CRM"),
    "adm_c_baseline": ("Baseline", "קו בסיס"),
    "adm_c_no_baseline": ("No baseline agreed", "לא סוכם קו בסיס"),
    "adm_c_window": ("Periods before the start", "תקופות לפני ההתחלה"),
    "adm_c_bgrain": ("Period", "תקופה"),
    "adm_grain_week": ("week", "שבוע"),
    "adm_grain_month": ("month", "חודש"),
    "adm_grain_quarter": ("quarter", "רבעון"),
    "adm_grain_year": ("year", "שנה"),
    "adm_c_aggregation": ("Aggregation", "חישוב"),
    "adm_agg_mean": ("mean", "ממוצע"),
    "adm_agg_median": ("median", "חציון"),
    "adm_agg_sum": ("sum", "סכום"),
    "adm_agg_min": ("minimum", "מינימום"),
    "adm_agg_max": ("maximum", "מקסימום"),
    "adm_agg_last": ("last", "אחרון"),
    "adm_c_fees": ("Fees", "תשלומים"),
    "adm_c_fixed": ("Fixed fee", "תשלום קבוע"),
    "adm_c_success_pct": ("Success fee, % of the incremental revenue",
                          "דמי הצלחה, באחוזים מתוספת ההכנסות"),
    "adm_c_bonus": ("Bonus when met", "בונוס בעמידה ביעד"),
    "adm_c_cap": ("Fee cap (empty: none)", "תקרת תשלום (ריק: ללא)"),
    "adm_c_refund_pct": ("Refund of the fixed fee when missed, %",
                         "החזר מהתשלום הקבוע באי-עמידה, באחוזים"),
    "adm_c_extension": ("Extension days after a miss", "ימי הארכה אחרי אי-עמידה"),
    "adm_c_warnings": ("Warnings about these terms", "אזהרות על התנאים האלה"),
    "adm_c_no_warnings": ("No warnings: the terms can be measured and the timeline fits the "
                          "metric.", "אין אזהרות: אפשר למדוד את התנאים, ולוח הזמנים מתאים "
                          "למדד."),
    "adm_c_record": ("Record the commitment", "רישום ההתחייבות"),
    "adm_c_list": ("Commitments on record", "התחייבויות רשומות"),
    "adm_c_status": ("Status", "מצב"),
    "adm_c_verdict": ("Verdict", "הכרעה"),
    "adm_c_concerns": ("Concerns", "הסתייגויות"),
    "adm_c_baseline_value": ("Baseline", "קו הבסיס"),
    "adm_c_target": ("Target", "יעד"),
    "adm_c_result": ("Result so far", "תוצאה עד כה"),
    "adm_c_achieved": ("Achieved improvement", "שיפור שהושג"),
    "adm_c_deadline": ("Deadline", "מועד אחרון"),
    "adm_c_as_of": ("Data as of", "נתונים נכון ל-"),
    "adm_c_fee": ("Fee due", "תשלום לספק"),
    "adm_c_roi": ("Return on the fee", "תשואה על התשלום"),
    "adm_c_weeks": ("Last weeks", "השבועות האחרונים"),
    "adm_c_week": ("Week ending", "שבוע שמסתיים ב-"),
    "adm_c_actual": ("Actual", "בפועל"),
    "adm_c_path": ("Agreed path", "המסלול המוסכם"),
    "adm_c_on_track": ("On track", "בקצב"),
    "adm_yes": ("yes", "כן"),
    "adm_no": ("no", "לא"),
    "adm_c_unavailable": ("The status cannot be computed from the data yet: {reason}",
                          "עדיין אי אפשר לחשב את המצב מהנתונים: {reason}"),
    # audit
    "adm_actor": ("Who", "מי"),
    "adm_action": ("Change", "שינוי"),
    "adm_target_col": ("On", "על"),
    "adm_detail": ("Details", "פרטים"),
    "adm_filter": ("Filter", "סינון"),
    "adm_action_prefix": ("Change starts with", "השינוי מתחיל ב-"),
    "adm_page_of": ("{first}–{last} of {total}", "{first}–{last} מתוך {total}"),
    "adm_newer": ("Newer", "חדשים יותר"),
    "adm_older": ("Older", "ישנים יותר"),
    # account plans on the 360
    "plan_title": ("Account plan", "תוכנית לקוח"),
    "plan_none": ("No account plan yet. Create one from the draft the data suggest (target, "
                  "opportunities, risks, pricing).", "אין עדיין תוכנית לקוח. אפשר ליצור אותה "
                  "מהטיוטה שהנתונים מציעים (יעד, הזדמנויות, סיכונים, תמחור)."),
    "plan_create": ("Create the plan from the draft", "יצירת התוכנית מהטיוטה"),
    "plan_any_tier": ("Also for a C or D account", "גם ללקוח בדירוג C או D"),
    "plan_target_optional": ("Revenue target (empty: the draft's)",
                             "יעד הכנסות (ריק: לפי הטיוטה)"),
    "plan_version": ("Version {n}", "גרסה {n}"),
    "plan_period": ("Plan year", "שנת התוכנית"),
    "plan_revenue_today": ("Revenue, last 12 months", "הכנסות ב-12 החודשים האחרונים"),
    "plan_revenue_target": ("Revenue target", "יעד הכנסות"),
    "plan_pricing": ("Pricing strategy", "אסטרטגיית תמחור"),
    "plan_needs": ("Needs (one a line)", "צרכים (אחד בכל שורה)"),
    "plan_opportunities": ("Opportunities", "הזדמנויות"),
    "plan_risks": ("Risks", "סיכונים"),
    "plan_edit": ("Edit the plan", "עריכת התוכנית"),
    "plan_note": ("What changed", "מה השתנה"),
    "plan_actions": ("Actions", "משימות"),
    "plan_action_title": ("Action", "משימה"),
    "plan_owner": ("Owner", "אחראי"),
    "plan_due": ("Due", "תאריך יעד"),
    "plan_add_action": ("Add the action", "הוספת המשימה"),
    "plan_done": ("Mark done", "סימון כבוצעה"),
    "plan_reopen": ("Reopen", "פתיחה מחדש"),
    "plan_status_open": ("open", "פתוחה"),
    "plan_status_done": ("done", "בוצעה"),
    "plan_status_dropped": ("dropped", "בוטלה"),
}

i18n.register(WORDS)

# the company settings' descriptions in Hebrew (the English ones are the settings' own docs)
SETTINGS_HE: dict[str, str] = {
    "currency": "קוד ISO 4217 של מטבע החברה (ILS,‏ USD,‏ EUR,‏ GBP ...); כל סכום נכתב עם הסימן "
                "שלו",
    "currency_symbol": "הסימן שנכתב לפני סכומים (ברירת המחדל: הסימן הרגיל של המטבע, למשל $ "
                       "עבור USD)",
    "fiscal_year_start": "החודש שבו מתחילה שנת הכספים (1 = ינואר): ממנו מתחילים הרבעונים "
                         "והשנים של המדדים, היעדים והקצב",
    "holdout_share": "שיעור התובנות החדשות שנשמרות בצד (לא נשלחות), כדי למדוד מולן את "
                     "השפעת התובנות",
    "outcome_window_days": "כמה ימים אחרי תובנה נבדקת התוצאה שלה; ריק: פי 1.5 מקצב הקנייה "
                           "של הלקוח, בין 30 ל-120 יום (30 ללקוח בלי קצב)",
    "churn_min_probability": "סיכון נטישה: הסתברות הנטישה שממנה והלאה לקוח מסומן (0.4)",
    "churn_min_value": "סיכון נטישה והזמנה חוזרת שלא הגיעה: הסכום המינימלי שבסיכון אצל "
                       "הלקוח (רכישות נטו של שנה; 1,000)",
    "churn_max_days_since": "סיכון נטישה: להתעלם מלקוחות ששותקים יותר מכך (ריק: ללא הגבלה, "
                            "כך שגם לקוחות שאבדו מזמן עולים להחזרה)",
    "churn_lost_days": "סיכון נטישה: לקוח ששותק יותר מכך (ואחרי הקצב שלו) מתואר כלקוח שאבד "
                       "(להחזרה) והדחיפות שלו נחצית; הזמנה חוזרת: אין התראה אחרי פרק הזמן הזה "
                       "(180)",
    "stopped_min_value": "פריט שהפסיק להימכר: הסכום המינימלי שבסיכון לצמד לקוח × מק\"ט (500)",
    "stopped_max_insights": "פריט שהפסיק להימכר: לכל היותר כמה צמדים, הגדולים קודם (200)",
    "cross_sell_min_value": "מכירה משלימה: הערך השנתי הצפוי המינימלי של ההמלצה המובילה "
                            "(1,000)",
    "cross_sell_min_buyers": "מכירה משלימה: השווי השנתי של הצעה הוא חציון ההוצאה של קוני "
                             "הפריט בשנה האחרונה; הוא נאמר רק כשקנו אותו לפחות כך וכך לקוחות "
                             "(5)",
    "cross_sell_per_rep": "מכירה משלימה: לכל היותר כמה הצעות לכל נציג, הגדולות קודם (5)",
    "anomaly_k": "ירידה בלקוחות פעילים: סף הסטיות (סטיית תקן חסינה) לזיהוי ירידה חריגה (3.0)",
    "anomaly_min_drop": "ירידה בלקוחות פעילים: הירידה היחסית המינימלית שנחשבת חריגה (0.1 = "
                        "10%)",
    "margin_min_drop": "שחיקת רווחיות: ירידת הרווח הגולמי של לקוח, בנקודות אחוז (0.03 = 3 "
                       "נקודות)",
    "margin_min_value": "שחיקת רווחיות: הרווח הגולמי המינימלי שאבד ברבעון לפי הרווחיות "
                        "הקודמת (500)",
    "margin_min_base_share": "שחיקת רווחיות: ההכנסות עם עלות ברבעון הקודם חייבות להיות לפחות "
                             "חלק זה מהכנסות הרבעון האחרון; רווחיות על כמה שורות קטנות אינה "
                             "בסיס להשוואה (0.25)",
    "lead_sla_hours_centre": "ליד שלא טופל: כמה שעות ליד יכול לחכות לפעולה ראשונה כשהנציג "
                             "עובד במוקד מכירות (24)",
    "lead_sla_hours_account": "ליד שלא טופל: כמה שעות ליד יכול לחכות לפעולה ראשונה כשהנציג "
                              "הוא מנהל לקוחות או שמודל העבודה לא ידוע (72)",
    "lead_max_age_days": "ליד שלא טופל: להתעלם מלידים ותיקים מכך (ריק: ללא הגבלה)",
    "coverage_min": "כיסוי צנרת נמוך: התראה מתחת ליחס הזה בין הצנרת הפתוחה ליעד שנותר (3.0)",
    "coverage_roll_days": "כיסוי צנרת נמוך: כשנותרו בחודש ימים כאלה או פחות, נבדק החודש "
                          "הבא (3)",
    "coverage_models": "כיסוי צנרת נמוך: מודלי העבודה של הנציגים שנבדקים; נציג בלי מודל "
                       "נחשב מנהל לקוחות (account)",
    "forecast_tolerance": "תחזית בסיכון: התראה כשהמכירות בפועל והצנרת המשוקללת נמוכות "
                          "מ-(1 פחות הערך הזה) כפול התחזית (0.1)",
    "forecast_min_elapsed_days": "תחזית בסיכון: חודש נבדק רק מהיום הזה שלו והלאה (7)",
    "concentration_threshold": "ריכוזיות: שיעור מההכנסות של 12 החודשים האחרונים שמעליו "
                               "לקוח הוא סיכון (0.15; התכנון מאפשר 0.15–0.20)",
    "single_thread_tiers": "לקוח עם איש קשר יחיד: הדירוגים שנבדקים (A)",
    "single_thread_top_n": "לקוח עם איש קשר יחיד: נבדקים גם N הלקוחות הגדולים לפי הכנסות "
                           "(20)",
    "single_thread_models": "לקוח עם איש קשר יחיד: נבדקים גם כל הלקוחות של נציגים במודלי "
                            "העבודה האלה (account: הלקוחות של מנהלי לקוחות הם לקוחות מפתח)",
    "overdue_min_probability": "תשלומים באיחור בסיכון: הסתברות הנטישה שממנה והלאה חוב "
                               "באיחור מסומן (0.3)",
    "overdue_min_amount": "תשלומים באיחור בסיכון: הסכום המינימלי שלא שולם בזמן (100)",
    "priority_value_cap": "הסכום שבסיכון שמקנה את מלוא חלק הערך בעדיפות (250,000)",
}
GROUPS: dict[str, tuple[str, str]] = {
    "company": ("company", "חברה"), "measurement": ("measurement", "מדידה"),
    "insight rules": ("insight rules", "כללי התובנות"),
}
