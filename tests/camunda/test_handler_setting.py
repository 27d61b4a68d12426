"""The CAMUNDA_HANDLERS setting registers handlers by module path when the app starts."""

import pytest

from engine.errors import InvalidInput
from tests.camunda.modelling import element, simple
from webapp import create_app

SETTING = "org.example.Notify=tests.camunda.sample_handlers:notify,\n tests.camunda.sample_handlers"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CAMUNDA_HANDLERS": SETTING}


def test_setting_registers_named_functions_and_module_tables(engine):
    for name in ("org.example.Notify", "org.example.Score", "scoreBean"):
        assert engine.camunda.handlers.get(name) is not None, name
    files = simple(element("serviceTask", "score", attributes='camunda:delegateExpression="${scoreBean}"'),
                   element("serviceTask", "notify", attributes='camunda:class="org.example.Notify"'))
    engine.deploy_files(files, "served")
    instance = engine.start("served", {"customer": "Ann"}, by=None)
    assert instance.status == "completed", instance.error
    data = engine.instance_detail(instance.id).data
    assert (data["score"], data["notified"]) == (300, "to Ann")
    assert engine.camunda.external_tasks() == []  # served in process, no worker needed


@pytest.mark.parametrize("setting, message", [
    ("org.example.X=tests.camunda.sample_handlers", "must be name=package.module:function"),
    ("org.example.X=tests.camunda.sample_handlers:missing", "has no attribute 'missing'"),
    ("tests.camunda.no_such_module", "No module named"),
    ("tests.camunda.modelling", "CAMUNDA_HANDLERS"),
])
def test_a_wrong_entry_stops_the_app_naming_it(setting, message, app_config):
    with pytest.raises(InvalidInput, match=message) as refused:
        create_app({**app_config, "CAMUNDA_HANDLERS": setting})
    assert setting.split("=")[0] in str(refused.value)


def test_nothing_is_registered_when_one_entry_is_wrong():
    from engine.camunda.handlers import Handlers

    handlers = Handlers()
    with pytest.raises(InvalidInput):
        handlers.load_setting("org.example.Notify=tests.camunda.sample_handlers:notify, nope.nothing")
    assert handlers.get("org.example.Notify") is None
