"""The studio: process owners change processes without a developer (modeler, forms, validate, deploy, migrate)."""

from webapp.web.studio import forms, modeler, processes, versions  # noqa: F401 - their routes register on `bp`
from webapp.web.studio.blueprint import bp

__all__ = ["bp"]
