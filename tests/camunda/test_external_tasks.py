"""A Camunda model with an external task, JUEL conditions, a formField form and a class-based service task,
driven through the engine: fetch-and-lock, complete, failure -> incident, BPMN error, handlers."""

import pytest

from engine.errors import InvalidModel, TaskNotReady


def deploy_loan(engine, camunda_models, **options):
    return engine.deploy(camunda_models / "loan.bpmn", key="loan", **options)


def fetch(engine, worker="w1", topic="credit-score", lock=60_000):
    return engine.camunda.fetch_and_lock(worker, 10, [{"topicName": topic, "lockDuration": lock}])


def test_deploy_detects_camunda_and_reports_every_extension(engine, camunda_models):
    result = deploy_loan(engine, camunda_models)
    assert result.dialect == "camunda"
    found = {(c["extension"], c["element_id"], c["handling"]) for c in result.compat}
    assert ("camunda:topic", "score", "run") in found
    assert ("camunda:class", "notify", "run") in found
    assert ("camunda:formField", "approve", "mapped") in found
    assert ("camunda:historyTimeToLive", "loan", "ignored") in found
    assert not any(c["blocking"] for c in result.compat)


def test_external_task_then_form_then_handler(engine, camunda_models, reviewer):
    deploy_loan(engine, camunda_models)
    engine.camunda.handlers.register("org.example.NotifyDelegate", lambda variables: {"notified": variables["amount"]})
    instance = engine.start("loan", {"applicant": "Ann"}, by="rita")
    [task] = fetch(engine)
    assert (task.topic, task.element_id, task.variables["applicant"]) == ("credit-score", "score", "Ann")
    assert fetch(engine, worker="w2") == []  # locked
    engine.camunda.complete(task.id, "w1", {"score": 700})
    [human] = engine.tasks(instance_id=instance.id)
    assert human.lane == "Reviewer"
    assert human.form["schema"]["properties"]["amount"] == {"type": "integer", "title": "Amount", "default": 1000,
                                                              "minimum": 100, "maximum": 50000}
    done = engine.complete(human.id, {"approved": True, "amount": 2500, "channel": "web"}, by="rita")
    assert done.status == "completed"
    assert engine.instance_detail(instance.id).data["notified"] == 2500


def test_juel_condition_takes_the_declined_path(engine, camunda_models):
    deploy_loan(engine, camunda_models)
    instance = engine.start("loan", {"applicant": "Ann"}, by=None)
    [task] = fetch(engine)
    engine.camunda.complete(task.id, "w1", {"score": 400})
    assert engine.instance(instance.id).status == "completed"


def test_complete_by_another_worker_is_refused(engine, camunda_models):
    deploy_loan(engine, camunda_models)
    engine.start("loan", {"applicant": "Ann"}, by=None)
    [task] = fetch(engine)
    with pytest.raises(TaskNotReady):
        engine.camunda.complete(task.id, "intruder", {"score": 700})


def test_failure_with_retries_then_incident(engine, camunda_models):
    deploy_loan(engine, camunda_models)
    instance = engine.start("loan", {"applicant": "Ann"}, by=None)
    [task] = fetch(engine)
    engine.camunda.failure(task.id, "w1", "bureau down", "trace", retries=2, retry_timeout_ms=0)
    [again] = fetch(engine)
    assert (again.retries, again.error_message) == (2, "bureau down")
    engine.camunda.failure(again.id, "w1", "still down", None, retries=0, retry_timeout_ms=0)
    failed = engine.instance(instance.id)
    assert failed.status == "error"
    assert "score" in failed.error and "still down" in failed.error
    assert fetch(engine) == []


def test_bpmn_error_is_caught_by_the_boundary_event(engine, camunda_models):
    deploy_loan(engine, camunda_models)
    instance = engine.start("loan", {"applicant": "Ann"}, by=None)
    [task] = fetch(engine)
    engine.camunda.bpmn_error(task.id, "w1", "REJECTED", "blacklisted", {"reason": "blacklist"})
    view = engine.instance(instance.id)
    assert view.status == "completed"


def test_uncaught_bpmn_error_is_an_incident(engine, camunda_models):
    deploy_loan(engine, camunda_models)
    instance = engine.start("loan", {"applicant": "Ann"}, by=None)
    [task] = fetch(engine)
    engine.camunda.bpmn_error(task.id, "w1", "OTHER", None, {})
    view = engine.instance(instance.id)
    assert view.status == "error" and "OTHER" in view.error


def test_spiff_dialect_override_refuses_camunda_service_tasks(engine, camunda_models):
    with pytest.raises(InvalidModel):
        deploy_loan(engine, camunda_models, dialect="spiff")


def test_studio_validate_lists_the_compat_report(engine, camunda_models):
    files = {"loan.bpmn": (camunda_models / "loan.bpmn").read_text()}
    findings = [f for f in engine.validate_files(files, "loan") if f.rule == "compat"]
    assert ("info", "score") in {(f.severity, f.element_id) for f in findings}
    assert any(f.severity == "warning" and "historyTimeToLive" in f.message for f in findings)
    blocked = files["loan.bpmn"].replace('camunda:candidateGroups="Reviewer"', 'camunda:candidateUsers="rita"')
    assert any(f.severity == "error" and "candidateUsers" in f.message
               for f in engine.validate_files({"loan.bpmn": blocked}, "loan"))


def test_ignored_behaviour_changing_extension_refuses_the_deploy_unless_allowed(engine, camunda_models):
    files = {"loan.bpmn": (camunda_models / "loan.bpmn").read_text().replace(
        'camunda:candidateGroups="Reviewer"', 'camunda:candidateUsers="rita"')}
    with pytest.raises(InvalidModel, match="candidateUsers"):
        engine.deploy_files(files, "loan")
    assert engine.deploy_files(files, "loan", allow_ignored=True).version == 1


def test_non_python_scripts_are_refused_naming_the_element(engine, camunda_models):
    text = (camunda_models / "loan.bpmn").read_text().replace(
        '<bpmn:endEvent id="done">',
        '<bpmn:scriptTask id="calc" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>'
        '<bpmn:endEvent id="done">')
    with pytest.raises(InvalidModel) as refused:
        engine.deploy_files({"loan.bpmn": text}, "loan", allow_ignored=True)
    assert refused.value.element_id == "calc" and "groovy" in str(refused.value)


def test_cli_deploy_json_has_the_compat_report(app, camunda_models):
    import json

    from click.testing import CliRunner

    from webapp.cli.commands import main

    def cli(*args):
        return CliRunner().invoke(main, [str(a) for a in args], obj=app)

    result = cli("deploy", camunda_models / "loan.bpmn", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["dialect"] == "camunda"
    assert {c["handling"] for c in payload["compat"]} == {"run", "mapped", "ignored"}
    text = cli("deploy", camunda_models / "loan.bpmn", "--key", "again")
    assert "camunda:" in text.output and "ignored camunda:historyTimeToLive on loan" in text.output
    forced = cli("deploy", camunda_models / "loan.bpmn", "--key", "plain", "--dialect", "spiff")
    assert forced.exit_code != 0
