"""Every Flask extension singleton, in one place; bound to an app in `create_app`."""

from engine.models import Base
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

# The engine owns the models; Flask-SQLAlchemy only provides the configured engine and migrations.
db = SQLAlchemy(metadata=Base.metadata)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
