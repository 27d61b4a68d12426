"""How each Camunda 7 extension is handled here: run, mapped, or ignored (and whether ignoring changes behaviour).

The table is the single answer to "what happens to camunda:X"; the dialect (dialect.py) reports one `CompatItem`
per occurrence, and docs/camunda-migration.md lists the same rows for people.
"""

from __future__ import annotations

from engine.core.dialects import CompatItem

# extension -> (handling, reason, changes behaviour when ignored)
RULES: dict[str, tuple[str, str, bool]] = {
    # run as Camunda does
    "class": ("run", "registered Python handler, else an external task on the class name's topic", False),
    "delegateExpression": ("run", "registered handler by bean name, else an external task on that topic", False),
    "expression": ("run", "JUEL; a bean call runs its registered handler, else an external task", False),
    "resultVariable": ("run", "the expression's or handler's result is stored under this name", False),
    "type": ("run", "external task waiting for a worker on its topic", False),
    "topic": ("run", "external task topic", False),
    "inputOutput": ("run", "input parameters are the element's local variables, outputs are set outside", False),
    "in": ("run", "the called process receives only the variables the camunda:in mappings name", False),
    "out": ("run", "only the variables the camunda:out mappings name come back from the called process", False),
    "executionListener": ("run", "by expression, registered handler (class, delegate expression) or Python", False),
    "taskListener": ("run", "create and complete, by expression, registered handler or Python", False),
    "collection": ("mapped", "multi-instance over the collection variable", False),
    "elementVariable": ("mapped", "multi-instance item variable", False),
    "formKey": ("mapped", "with camunda:formField the fields become a server-validated form", False),
    "formData": ("mapped", "fields become a JSON Schema form rendered with WTForms", False),
    "formField": ("mapped", "a form field (string, long, boolean, date, enum)", False),
    "validation": ("mapped", "field constraints: required, min, max, minlength, maxlength, readonly", False),
    "constraint": ("mapped", "field constraint", False),
    "value": ("mapped", "an enum option", False),
    "candidateGroups": ("mapped", "a single literal group becomes the task's lane (role)", False),
    "asyncBefore": ("run", "committed, then continued by a job on the worker; retries, then an incident", False),
    "asyncAfter": ("run", "committed, then continued by a job on the worker; retries, then an incident", False),
    "async": ("run", "as camunda:asyncBefore", False),
    "failedJobRetryTimeCycle": ("run", "attempts and waits of the element's asynchronous job", False),
    "decisionRef": ("mapped", "the DMN decision of the bundle with that id", False),
    # ignored: informational for this engine
    "historyTimeToLive": ("ignored", "history retention is set by the data-retention policy", False),
    "versionTag": ("ignored", "versions are numbered at deploy", False),
    "isStartableInTasklist": ("ignored", "every deployed process may be started by permitted users", False),
    "candidateStarterGroups": ("ignored", "who may start is set by roles", False),
    "candidateStarterUsers": ("ignored", "who may start is set by roles", False),
    "jobPriority": ("ignored", "jobs have no priority here", False),
    "taskPriority": ("ignored", "external tasks are offered oldest first", False),
    "priority": ("ignored", "the inbox orders tasks by due date", False),
    "exclusive": ("ignored", "an instance's steps never run concurrently (optimistic lock)", False),
    "properties": ("ignored", "camunda:properties are not read (use spiffworkflow:properties)", False),
    "property": ("ignored", "camunda:properties are not read", False),
    "initiator": ("ignored", "the starting user is the instance's started_by, not a variable", False),
    "assignee": ("ignored", "tasks are offered by lane (role) and claimed; no preset assignee", False),
    "dueDate": ("ignored", "due dates come from boundary timers", False),
    "followUpDate": ("ignored", "no follow-up dates", False),
    "calledElementBinding": ("ignored", "a call activity calls the version newest when the caller is deployed", False),
    "calledElementVersion": ("ignored", "a call activity calls the version newest when the caller is deployed", False),
    "calledElementTenantId": ("ignored", "no tenants", False),
    "decisionRefBinding": ("ignored", "the bundle's decision is used", False),
    "mapDecisionResult": ("ignored", "the decision's output is written as the table says", False),
    "errorCodeVariable": ("ignored", "the error code is not stored in a variable", False),
    "errorMessageVariable": ("ignored", "the error message is not stored in a variable", False),
    "modelerTemplate": ("ignored", "modeler metadata", False),
    "modelerTemplateVersion": ("ignored", "modeler metadata", False),
    # ignored and behaviour-changing: refuse the deploy unless --allow-ignored
    "candidateUsers": ("ignored", "candidate users are not supported (use one group = lane)", True),
    "connector": ("ignored", "Camunda connectors (HTTP/SOAP) are not supported; serve the task by a handler", True),
    "connectorId": ("ignored", "Camunda connectors are not supported", True),
    "variableMappingClass": ("ignored", "delegated variable mappings are not supported", True),
    "variableMappingDelegateExpression": ("ignored", "delegated variable mappings are not supported", True),
    "formHandlerClass": ("ignored", "form handler classes are not supported", True),
}

# Children of an extension already reported by their parent.
NESTED = {"list", "map", "entry", "script", "field", "string", "properties", "validation", "constraint", "value",
          "inputParameter", "outputParameter"}
# Elements that run mappings and listeners (events other than these, and gateways, do not).
PROGRAMMABLE = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
                "businessRuleTask", "subProcess", "transaction", "callActivity", "startEvent", "endEvent",
                "intermediateCatchEvent", "intermediateThrowEvent"}


def item(name: str, element_id: str | None, file: str, line: int | None, detail: str = "") -> CompatItem:
    """The report line for extension `name` found on `element_id`."""
    handling, reason, changes = RULES.get(name, ("ignored", "unknown Camunda extension", True))
    if detail:
        reason = f"{reason} ({detail})"
    return CompatItem(f"camunda:{name}", element_id, handling, reason, changes if handling == "ignored" else False,
                      file, line)


def overridden(name: str, element_id: str | None, file: str, line: int | None, handling: str, reason: str,
               changes: bool = False) -> CompatItem:
    return CompatItem(f"camunda:{name}", element_id, handling, reason, changes, file, line)
