"""Nightly job: python -m fastapi_notes.tasks.cleanup (cron, not part of the API process)."""
import sys

from ..crud import purge_deleted_notes
from ..db import connect


def main() -> int:
    conn = connect()
    return purge_deleted_notes(conn, older_than_days=30)


if __name__ == "__main__":
    print(f"purged {main()} notes")
    sys.exit(0)
