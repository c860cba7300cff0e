"""CSV exports for the partnerships team (run by hand: `python -m legacy_app export`)."""
import csv

from sqlalchemy import select

from ..db import db_session
from ..models import User
from .reports_export import build_csv

EXPORT_COLUMNS = ("id", "username", "email", "city", "created_at")


def export_users(stream):
    users = db_session.execute(select(User).order_by(User.id)).scalars().all()
    rows = [[getattr(u, col) for col in EXPORT_COLUMNS] for u in users]
    writer = csv.writer(stream)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(rows)
    return build_csv(EXPORT_COLUMNS, rows)
