import os
from dataclasses import dataclass


@dataclass
class Settings:
    PROJECT_NAME: str = "Notes API"
    API_V1_STR: str = "/api/v1"
    # to get a string like this run: openssl rand -hex 32
    SECRET_KEY: str = os.getenv("SECRET_KEY", "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7")
    ALGORITHM: str = "HS256"
    ACCESS_TOKEN_EXPIRE_MINUTES: int = 60 * 24
    DATABASE_PATH: str = os.getenv("DATABASE_PATH", "notes.db")
    UPLOAD_DIR: str = os.getenv("UPLOAD_DIR", "uploads")
    MAX_ATTACHMENT_BYTES: int = 5 * 1024 * 1024
    MAILER_URL: str = os.getenv("MAILER_URL", "https://mail.internal.example.com/send")
    MAILER_API_KEY: str | None = os.getenv("MAILER_API_KEY")
    DEBUG: bool = os.getenv("DEBUG", "false").lower() == "true"


settings = Settings()
