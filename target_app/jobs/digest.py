"""Weekly e-mail digest, run from cron (`python -m legacy_app digest`)."""
import logging
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from ..config import Config
from ..db import db_session, init_db
from ..models import Post, User, utcnow
from ..workbench_security import init_security

log = logging.getLogger(__name__)


def build_worker_app():
    # no blueprints or sockets: the cron box only needs config and the database
    worker = Flask(__name__)
    worker.config.from_object(Config)
    init_db(worker.config["DATABASE_URL"])
    init_security(worker)
    return worker


def send_weekly_digest():
    worker = build_worker_app()
    since = utcnow() - timedelta(days=7)
    with worker.app_context():
        new_posts = db_session.execute(select(func.count()).select_from(Post).where(Post.created_at >= since)).scalar_one()
        for user in db_session.execute(select(User).where(User.is_banned.is_(False))).scalars():
            # TODO: actually send once the mailgun account is approved
            log.info("digest for %s: %d new memories this week", user.email, new_posts)
    return new_posts
