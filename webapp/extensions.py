"""Every Flask extension singleton, in one place; bound to an app in `create_app`."""

from engine import Engine
from engine.core.db.models import Base
from flask import current_app
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

# The engine owns the models; Flask-SQLAlchemy only provides the configured engine and migrations.
db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
# Sign-in throttling only (webapp/web/views/auth.py); storage from RATELIMIT_STORAGE_URI, no default limits.
limiter = Limiter(key_func=lambda: "")


def get_engine() -> Engine:
    """The engine of the current app (made once in `create_app`)."""
    return current_app.extensions["clientflow"]
