"""Writes the small synthetic sample exports under tests/data (run once; the outputs are committed).

They imitate real exports byte for byte where it matters: Priority's Windows-1255 CSV with Hebrew
headers, dd/mm/yyyy dates, ₪ amounts with thousands separators and a Hebrew ERP's trailing-minus
negatives; HubSpot's deals export with its English headers and stage labels. Names and numbers are
invented.
"""

from pathlib import Path

HERE = Path(__file__).parent

PRIORITY = """\
מס. חשבונית,שורה,תאריך חשבונית,מס. לקוח,שם לקוח,מק"ט,תאור מוצר,כמות,מחיר ליחידה,\
עלות ליחידה,סה"כ מחיר,סוכן
IV240001,1,02/01/2024,1001,כהן מזון בע"מ,MLK-1L,"חלב 3% 1 ליטר",120,₪5.90,4.10,"₪708.00",\
07
IV240001,2,02/01/2024,1001,כהן מזון בע"מ,CHS-200,"גבינה צהובה 200 גרם",40,₪12.50,8.75,"₪500.00",07
IV240002,1,15/01/2024,1002,"מרכול השכונה",MLK-1L,"חלב 3% 1 ליטר",1500,₪5.60,4.10,"₪8,400.00",12
IV240003,1,31/01/2024,1001,כהן מזון בע"מ,YGT-150,"יוגורט 150 גרם",-10,₪3.20,2.00,"₪32.00-",07
IV240004,1,01/02/2024,1003,"סופר דוד",CHS-200,"גבינה צהובה 200 גרם",25,₪12.90,8.75,"₪322.50",12
"""

HUBSPOT_DEALS = """\
Record ID,Deal Name,Deal Stage,Pipeline,Amount,Create Date,Close Date,Deal owner,\
Associated Company IDs (Primary),Forecast category,Closed Lost Reason
9001,Renewal 2024,Closed Won,Sales Pipeline,12000,2024-01-03 09:15,2024-02-20 00:00,Dana Levi,\
5501,Closed,
9002,Expansion,Closed Lost,Sales Pipeline,8000,2024-01-10 11:00,2024-03-01 00:00,Dana Levi,\
5502,Omitted,Price
9003,New store,Contract Sent,Sales Pipeline,"4,500",2024-02-01 14:30,2024-04-15 00:00,Avi Cohen,\
5503,Commit,
"""

if __name__ == "__main__":
    (HERE / "priority_invoice_lines.csv").write_bytes(PRIORITY.encode("windows-1255"))
    (HERE / "hubspot_deals.csv").write_text(HUBSPOT_DEALS, encoding="utf-8")
