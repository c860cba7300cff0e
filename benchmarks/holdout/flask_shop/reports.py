"""Monthly sales report (run from cron through `flask sales-report`; not wired into the app yet)."""
from .db import get_db
from .models import Invoice


def monthly_totals(month):
    rows = get_db().execute("SELECT SUM(total) AS total, COUNT(*) AS n FROM orders WHERE strftime('%Y-%m', created) = ?", (month,)).fetchone()
    return Invoice(total=rows["total"], count=rows["n"])
