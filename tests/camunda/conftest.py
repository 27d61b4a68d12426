"""Fixtures for the Camunda 7 compatibility tests: the small models in models/ and a reviewer."""

from pathlib import Path

import pytest

MODELS = Path(__file__).parent / "models"


@pytest.fixture
def camunda_models():
    return MODELS


@pytest.fixture
def reviewer(make_user):
    return make_user("rita", "Reviewer")
