import os

basedir = os.path.abspath(os.path.dirname(__file__))


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "super-secret")
    DATABASE = os.environ.get("DATABASE", os.path.join(basedir, "shop.sqlite"))
    UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER", os.path.join(basedir, "uploads"))
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # payment provider: the key only ever comes from the environment
    PAYMENT_API_URL = "https://api.payments.example.com/v1/charges"
    PAYMENT_API_KEY = os.environ.get("PAYMENT_API_KEY")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "shop@example.com")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")

    # shared with the warehouse system for the /admin endpoints
    ADMIN_API_TOKEN = "wh-7d1f0c9e4b2a8f63"

    RESET_TOKEN_MAX_AGE = 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    ALLOWED_IMAGE_EXTENSIONS = {"png", "jpg", "jpeg"}
