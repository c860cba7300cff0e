import os
from .workbench_security import require_env

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATABASE_URL = "sqlite:///" + os.path.join(BASE_DIR, "community.db")


class Config:
    SECRET_KEY = require_env("SECRET_KEY")
    DATABASE_URL = DEFAULT_DATABASE_URL
    UPLOAD_FOLDER = os.path.join(BASE_DIR, "uploads")
    MAX_IMAGE_BYTES = 5 * 1024 * 1024
    FEED_PAGE_SIZE = 20

    MAIL_SERVER = os.getenv("SMTP_HOST", "smtp.mailgun.org")
    MAIL_USERNAME = os.getenv("SMTP_USER", "postmaster@mg.tangocommunity.app")
    MAIL_PASSWORD = require_env("SMTP_PASSWORD")
