"""Writes the hand-made files under tests/data/detect (run once; the outputs are committed).

Each imitates one kind of export the mapping detector must read without a mapping file. Names and
numbers are invented.
"""

from pathlib import Path

HERE = Path(__file__).parent

# Hebrew headers that are not Priority's own, Windows-1255, dd/mm/yyyy (a day above 12 proves
# the order), ₪ amounts with thousands commas and a return written with a trailing minus; no line
# numbers (lines are numbered per invoice in file order)
HEBREW = """\
מספר חשבונית,תאריך,מספר לקוח,שם לקוח,קוד פריט,תאור,כמות,סה"כ,סוכן
50011,03/01/2024,2001,"מכולת יוסי",P-100,"קמח 1 ק""ג",10,"₪1,250.00",5
50011,03/01/2024,2001,"מכולת יוסי",P-200,סוכר,4,₪36.40,5
50012,17/01/2024,2002,"סופר השרון",P-100,"קמח 1 ק""ג",20,"₪2,480.00",8
50013,28/02/2024,2001,"מכולת יוסי",P-200,סוכר,-2,₪18.20-,5
"""

# English headers, US dates m/d/yyyy (a second field above 12 proves the order), $ amounts,
# a unit price beside the line total, a cost per unit
ENGLISH = """\
Invoice No,Invoice Date,Customer ID,Customer Name,Item Code,Description,Qty,Unit Price,\
Line Total,Unit Cost,Sales Rep
INV-9001,1/15/2024,C-17,Acme Stores,SKU-1,Paper towels,12,$4.50,$54.00,$3.10,R07
INV-9001,1/15/2024,C-17,Acme Stores,SKU-2,Dish soap,6,$2.25,$13.50,$1.40,R07
INV-9002,2/3/2024,C-22,Best Market,SKU-1,Paper towels,100,$4.20,"$1,420.00",$3.10,R09
INV-9003,2/29/2024,C-17,Acme Stores,SKU-3,Sponges,-3,$1.00,($3.00),$0.60,R07
"""

# semicolons, a decimal comma, dots for thousands, dd.mm.yyyy
SEMICOLON = """\
Document;Date;Customer;SKU;Quantity;Amount
D-1;05.03.2024;K1;A-1;2,5;1.234,50
D-1;05.03.2024;K1;A-2;1;99,90
D-2;21.03.2024;K2;A-1;10;4.938,00
"""

# an invoice-lines export with no customer column at all
MISSING = """\
Invoice,Date,Item,Qty,Total
A1,2024-01-05,S1,1,10.00
A2,2024-01-06,S2,2,20.00
"""

# SAP Business One A/R invoice lines (OINV + INV1) as the shipped mapping expects them
SAP = """\
DocNum,LineNum,DocDate,CardCode,ItemCode,Dscription,Quantity,Price,LineTotal,StockPrice,SlpCode
1001,0,04.01.2024,C20000,A00001,Printer,2,400.00,800.00,250.00,3
1001,1,04.01.2024,C20000,A00002,Toner,5,40.00,200.00,22.50,3
1002,0,22.01.2024,C30000,A00001,Printer,1,410.00,410.00,250.00,4
"""

# Hashavshevet item movements of sales documents, Windows-1255, dd/mm/yy
HASHAVSHEVET = """\
מספר מסמך,תאריך,מפתח חשבון,שם חשבון,מפתח פריט,שם פריט,כמות,מחיר,סה"כ,סוכן
7001,14/01/24,3001,"לקוח א",I-1,"פריט א",3,10.00,30.00,2
7001,14/01/24,3001,"לקוח א",I-2,"פריט ב",1,55.50,55.50,2
7002,20/01/24,3002,"לקוח ב",I-1,"פריט א",7,10.00,70.00,4
"""

if __name__ == "__main__":
    (HERE / "hebrew_invoice_lines.csv").write_bytes(HEBREW.encode("windows-1255"))
    (HERE / "english_us_dates.csv").write_text(ENGLISH, encoding="utf-8")
    (HERE / "semicolon_decimal_comma.csv").write_text(SEMICOLON, encoding="utf-8")
    (HERE / "missing_customer.csv").write_text(MISSING, encoding="utf-8")
    (HERE / "sap_b1_invoice_lines.csv").write_text(SAP, encoding="utf-8")
    (HERE / "hashavshevet_invoice_lines.csv").write_bytes(HASHAVSHEVET.encode("windows-1255"))
