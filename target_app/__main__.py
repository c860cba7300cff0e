import logging
import os
import sys

from . import create_app
from .extensions import socketio

log = logging.getLogger(__package__)

USAGE = f"usage: python -m {__package__} [serve|seed [--reset]|export|digest]"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "serve"
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    if command == "seed":
        from .seed import seed_demo_data

        app = create_app()
        with app.app_context():
            created = seed_demo_data(reset="--reset" in argv)
        log.info("seeded %s into %s", created or "nothing (already seeded)", app.config["DATABASE_URL"])
    elif command == "export":
        from .services.exports import export_users

        export_users(sys.stdout)
    elif command == "digest":
        from .jobs.digest import send_weekly_digest

        send_weekly_digest()
    elif command == "serve":
        app = create_app()
        socketio.run(app, host=os.getenv("HOST", "127.0.0.1"), port=int(os.getenv("PORT", "5000")), allow_unsafe_werkzeug=True)
    else:
        sys.stderr.write(USAGE + "\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
