import os

# The fallback is a payload: it shows up as a hardcoded-secret snippet in the reports.
SECRET_KEY = os.getenv("SECRET_KEY", "<img src=x onerror=window.__pwned=2>")
