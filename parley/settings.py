"""Django settings for Parley; every knob comes from a PARLEY_* environment variable (see README)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from parley import config

BASE_DIR = config.BASE_DIR
DATA_DIR = config.data_dir()
METRICS_DIR = config.metrics_dir()  # before prometheus_client is imported: it picks its mode then
SECRET_KEY = config.secret_key()
DEBUG = config.env("PARLEY_DEBUG", "0").lower() in ("1", "true", "yes", "on")
ALLOWED_HOSTS = [
    h for h in config.env("PARLEY_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in config.env("PARLEY_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

RELAY_DOMAIN = config.env("PARLEY_RELAY_DOMAIN", "relay.parley.localhost").lower()
HTTP_LISTEN = config.env("PARLEY_HTTP_LISTEN", "127.0.0.1:8000")
SMTP_LISTEN = config.env("PARLEY_SMTP_LISTEN", "127.0.0.1:2525")
PUBLIC_URL = config.env("PARLEY_PUBLIC_URL", f"http://{HTTP_LISTEN}").rstrip("/")
VERIFY_SENDER = config.env("PARLEY_VERIFY_SENDER", "")  # "" or "dmarc"
OUTBOUND_SMTP = config.env("PARLEY_OUTBOUND_SMTP", "")  # smtp://host:port; empty: Maildir under data dir
MAIL_FROM = config.env("PARLEY_MAIL_FROM", f"no-reply@{RELAY_DOMAIN}")
MAX_MESSAGE_BYTES = int(config.env("PARLEY_MAX_MESSAGE_BYTES", str(25 * 1024 * 1024)))
# Web request bodies: larger ones are refused with 413 by the web server (waitress) and again by
# parley.core.uploads.LimitUploads, before they are read. A form carries at most 10 MB of attachments.
MAX_REQUEST_BYTES = int(config.env("PARLEY_MAX_REQUEST_BYTES", str(12 * 1024 * 1024)))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "parley.core",
    "parley.marketplace",
    "parley.policy",
    "parley.conversations",
    "parley.delivery",
    "parley.mailgate",
    "parley.sellercentral",
    "parley.buyers",
    "parley.operators",
    "parley.api",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "parley.core.middleware.RequestContext",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "parley.core.uploads.LimitUploads",  # before anything reads the body
    "django.middleware.common.CommonMiddleware",
    "parley.core.middleware.RefuseUnstorableText",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "parley.core.middleware.TimezoneMiddleware",
    "parley.core.middleware.UserLanguageMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "parley.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "parley" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            "builtins": ["parley.core.templatetags.when"],
        },
    },
]
WSGI_APPLICATION = "parley.wsgi.application"

DATABASES = {"default": config.database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2id first: new passwords are hashed with it, and a password kept under another hasher (or
# another Argon2 cost) is re-hashed the next time its owner signs in.
PASSWORD_HASHERS = [
    "parley.core.hashers.Argon2id",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Sign-in throttling (django-axes): after LOGIN_FAILURE_LIMIT failures for one username, or from one
# address, sign-in is refused (429) for LOGIN_LOCKOUT_MINUTES; an operator can unlock earlier
# (operator console, Sign-in lockouts; or `parley unlock-login`).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(config.env("PARLEY_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=float(config.env("PARLEY_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "parley.core.views.locked_out"
# The peer's address only: X-Forwarded-For is whatever the client wants it to be.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
AXES_VERBOSE = False
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "parley" / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every request when it is missing
STATICFILES_DIRS = [BASE_DIR / "parley" / "static"]
# Served by WhiteNoise from the app directories, so `parley run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
# Every page: scripts, styles, images and fonts from Parley itself only; no inline script or style
# (the pages have none), no plug-ins, no framing, forms post only back to Parley.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# PARLEY_PUBLIC_URL=https://...: Parley is behind TLS, so cookies are Secure, browsers are told to
# keep to HTTPS (HSTS), and the proxy's X-Forwarded-Proto is trusted (the proxy must set it, and
# drop what clients send).
HTTPS = urlsplit(PUBLIC_URL).scheme == "https"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
if HTTPS:
    CSRF_TRUSTED_ORIGINS.append(f"https://{urlsplit(PUBLIC_URL).netloc}")
CSRF_FAILURE_VIEW = "parley.core.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES  # what is not a file: JSON bodies, form fields
# A file within the attachment limit stays in memory; one over it is stopped as it arrives
# (parley.core.uploads), so nothing larger is ever held or spooled.
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A refused page (403) is a normal answer, not a fault: logged in one line, without a traceback.
    "filters": {
        "ids": {"()": "parley.core.logs.ContextFilter"},
        "no_403_traceback": {"()": "parley.core.logfilters.NoTracebackFor403"},
    },
    "formatters": {"json": {"()": "parley.core.logs.json_formatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["ids"],
            # PARLEY_LOG_FORMAT=json: one JSON object a line, with the request / SMTP session / message
            # ids that follow one message across the web, the gateway and the worker.
            **({"formatter": "json"} if config.env("PARLEY_LOG_FORMAT", "text") == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": config.env("PARLEY_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.request": {"filters": ["no_403_traceback"]},
        # django-axes logs every failed sign-in at INFO; a lockout is a WARNING.
        "axes": {"level": "WARNING"},
        # aiosmtpd logs every SMTP command at INFO, envelope addresses included (a buyer's real one
        # when a buyer writes): several lines per message. Parley logs what matters itself.
        "mail.log": {"level": config.env("PARLEY_SMTP_PROTOCOL_LOG_LEVEL", "WARNING")},
    },
}

# Attachments: files named by their SHA-256 under $PARLEY_DATA_DIR/attachments/, or a bucket
# (PARLEY_ATTACHMENT_STORAGE=s3://bucket/prefix), never rows in the database.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "attachments": config.attachment_storage(config.env("PARLEY_ATTACHMENT_STORAGE", "")),
}
# Unreferenced attachment files younger than this are kept by `parley collect-attachments`: a file
# is written before the transaction that refers to it commits.
ATTACHMENT_GRACE = dt.timedelta(hours=float(config.env("PARLEY_ATTACHMENT_GRACE_HOURS", "24")))
