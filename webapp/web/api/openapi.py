"""The OpenAPI 3.1 document of `/api/v1`, kept beside the routes it describes (a test checks they agree)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from webapp.web.api.client_docs import client_paths
from webapp.web.api.document_docs import document_paths

MAX_ID = 2147483647


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"$ref": f"#/components/responses/E{code}"} for code in codes}


def _path_id(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


TASK_PARAM = {"name": "task_id", "in": "path", "required": True, "description": "The task's id (a UUID)",
              "schema": {"type": "string", "format": "uuid"}}
PAGE_PARAMS = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000,
                                                 "default": 0}},
]
DATE = _nullable("string", format="date-time")

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["status", "title", "message"],
            "properties": {"status": {"type": "integer"}, "title": {"type": "string"},
                           "message": {"type": "string"},
                           "fields": {"type": "object",
                                      "additionalProperties": {"type": "array", "items": {"type": "string"}}}}}}},
    "User": {
        "type": "object", "required": ["id", "username", "display_name", "email", "roles", "active"],
        "properties": {"id": {"type": "integer"}, "username": {"type": "string"},
                       "display_name": {"type": "string"}, "email": _nullable("string"),
                       "roles": {"type": "array", "items": {"type": "string"}}, "active": {"type": "boolean"}}},
    "Process": {
        "type": "object", "required": ["key", "version", "name", "deployed_at", "deployed_by"],
        "properties": {"key": {"type": "string"}, "version": {"type": "integer"}, "name": {"type": "string"},
                       "deployed_at": {"type": "string", "format": "date-time"},
                       "deployed_by": _nullable("string")}},
    "Instance": {
        "type": "object",
        "required": ["id", "key", "version", "status", "reference", "label", "started_by", "started_at",
                     "updated_at", "ended_at", "lock_version", "error"],
        "properties": {"id": {"type": "integer"}, "key": {"type": "string"}, "version": {"type": "integer"},
                       "status": {"type": "string", "enum": ["running", "error", "completed", "cancelled"]},
                       "reference": _nullable("string"), "label": _nullable("string"),
                       "started_by": _nullable("string"),
                       "started_at": {"type": "string", "format": "date-time"},
                       "updated_at": {"type": "string", "format": "date-time"}, "ended_at": DATE,
                       "lock_version": {"type": "integer",
                                        "description": "Pass as `expected_version` to refuse stale updates"},
                       "error": _nullable("string")}},
    "Task": {
        "type": "object",
        "required": ["id", "instance_id", "process_key", "element_id", "name", "lane", "claimed_by", "created_at",
                     "due_at", "reference", "label", "form"],
        "properties": {"id": {"type": "string", "format": "uuid"}, "instance_id": {"type": "integer"},
                       "process_key": {"type": "string"}, "element_id": {"type": "string"},
                       "name": {"type": "string"}, "lane": _nullable("string"), "claimed_by": _nullable("string"),
                       "created_at": {"type": "string", "format": "date-time"}, "due_at": DATE,
                       "reference": _nullable("string"), "label": _nullable("string"),
                       "form": {"type": ["object", "null"], "description": "The form's key and JSON schema"}}},
    "Timer": {
        "type": "object",
        "required": ["id", "instance_id", "task_id", "element_id", "name", "kind", "interrupting", "due_at",
                     "fired_at", "cancelled_at"],
        "properties": {"id": {"type": "integer"}, "instance_id": {"type": "integer"}, "task_id": {"type": "string"},
                       "element_id": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
                       "interrupting": {"type": "boolean"},
                       "due_at": {"type": "string", "format": "date-time"}, "fired_at": DATE,
                       "cancelled_at": DATE}},
    "Event": {
        "type": "object", "required": ["id", "instance_id", "at", "actor", "kind", "element_id", "task_id", "detail"],
        "properties": {"id": {"type": "integer"}, "instance_id": _nullable("integer"),
                       "at": {"type": "string", "format": "date-time"}, "actor": _nullable("string"),
                       "kind": {"type": "string"}, "element_id": _nullable("string"),
                       "task_id": _nullable("string"), "detail": {"type": "object"}}},
}
SCHEMAS["SlaEvent"] = {
    "type": "object", "required": ["instance_id", "kind", "target", "at", "state", "due", "reason", "detail"],
    "properties": {"instance_id": {"type": "integer"}, "kind": {"type": "string"}, "target": {"type": "string"},
                   "at": {"type": "string", "format": "date-time"}, "state": {"type": "string"}, "due": DATE,
                   "used_minutes": {"type": "integer"}, "over_minutes": {"type": "integer"},
                   "reason": _nullable("string"), "detail": {"type": "object"}}}
SCHEMAS["SlaClock"] = {
    "type": "object", "required": ["target", "state", "due_at", "used", "over_minutes", "overdue", "level"],
    "properties": {"target": {"type": "string"}, "state": {"type": "string",
                                                           "enum": ["running", "paused", "met", "breached"]},
                   "due_at": DATE, "used": {"type": "string"}, "used_minutes": {"type": "integer"},
                   "remaining": {"type": "string"}, "over_minutes": {"type": "integer"},
                   "overdue": {"type": "boolean"}, "duration": {"type": "string"}, "calendar": {"type": "string"},
                   "level": _nullable("string"), "escalated": {"type": "boolean"},
                   "paused_reason": _nullable("string")}}
SCHEMAS["Sla"] = {
    "type": "object", "required": ["instance_id", "on_hold", "clocks", "events"],
    "properties": {"instance_id": {"type": "integer"}, "on_hold": _nullable("string"),
                   "clocks": {"type": "array", "items": _ref("SlaClock")},
                   "events": {"type": "array", "items": {"type": "object"}}}}
SCHEMAS["InstanceDetail"] = {
    "allOf": [_ref("Instance"), {
        "type": "object",
        "required": ["data", "tasks", "timers", "events", "completed_elements", "active_elements"],
        "properties": {"data": {"type": "object"}, "tasks": {"type": "array", "items": _ref("Task")},
                       "timers": {"type": "array", "items": _ref("Timer")},
                       "events": {"type": "array", "items": _ref("Event")},
                       "completed_elements": {"type": "array", "items": {"type": "string"}},
                       "active_elements": {"type": "array", "items": {"type": "string"}}}}]}

DATA_BODY = {"type": "object", "properties": {"data": {"type": "object", "description": "Process/task data"}}}


def _body(schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def paths() -> dict[str, Any]:
    instance_id = _path_id("instance_id", "The instance's id")
    return {
        "/me": {"get": {"operationId": "me", "summary": "The token's user and roles",
                        "responses": {"200": _json(_ref("User"), "The user"), **_errors(401)}}},
        "/processes": {"get": {
            "operationId": "listProcesses", "summary": "Deployed processes (latest version of each)",
            "responses": {"200": _json({"type": "object", "required": ["processes"], "properties": {
                "processes": {"type": "array", "items": _ref("Process")}}}, "The processes"), **_errors(401)}}},
        "/processes/{key}/instances": {"post": {
            "operationId": "startInstance", "summary": "Start an instance of the latest version of a process",
            "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": _body(DATA_BODY),
            "responses": {"201": _json(_ref("Instance"), "The started instance"), **_errors(400, 401, 404, 422)}}},
        "/instances": {"get": {
            "operationId": "listInstances", "summary": "Search instances, newest first",
            "parameters": [
                {"name": "process", "in": "query", "schema": {"type": "string"}, "description": "Process key"},
                {"name": "status", "in": "query",
                 "schema": {"type": "string", "enum": ["running", "error", "completed", "cancelled"]}},
                {"name": "q", "in": "query", "schema": {"type": "string"},
                 "description": "Part of the reference number, client name or a searchable field"},
                *PAGE_PARAMS],
            "responses": {"200": _json({"type": "object", "required": ["instances"], "properties": {
                "instances": {"type": "array", "items": _ref("Instance")}}}, "The instances"),
                **_errors(400, 401, 404)}}},
        "/instances/{instance_id}": {"get": {
            "operationId": "getInstance", "summary": "An instance with its data, open tasks, timers and audit trail",
            "parameters": [instance_id],
            "responses": {"200": _json(_ref("InstanceDetail"), "The instance"), **_errors(401, 404)}}},
        "/instances/{instance_id}/cancel": {"post": {
            "operationId": "cancelInstance", "summary": "Cancel a running or failed instance (Admin, Supervisor, "
                                                       "Manager)",
            "parameters": [instance_id],
            "requestBody": _body({"type": "object", "properties": {"reason": {"type": "string"}}}),
            "responses": {"200": _json(_ref("Instance"), "The cancelled instance"),
                          **_errors(400, 401, 403, 404, 409)}}},
        "/instances/{instance_id}/retry": {"post": {
            "operationId": "retryInstance", "summary": "Run a failed step again, optionally with corrected data "
                                                      "(Admin, Supervisor, Manager)",
            "parameters": [instance_id], "requestBody": _body(DATA_BODY),
            "responses": {"200": _json(_ref("Instance"), "The instance after the retry"),
                          **_errors(400, 401, 403, 404, 409)}}},
        "/instances/{instance_id}/escalate": {"post": {
            "operationId": "escalateInstance",
            "summary": "Escalate now: refer the case to the next level of a target's SLA ladder, with a reason "
                       "(staff of the case's open lanes, Supervisor, Manager, Admin; scope `work`)",
            "parameters": [instance_id],
            "requestBody": _body({"type": "object", "required": ["reason"], "properties": {
                "reason": {"type": "string", "minLength": 1, "maxLength": 500},
                "target": {"type": "string", "default": "resolve",
                           "enum": ["acknowledge", "first_response", "next_update", "resolve"]}}}, required=True),
            "responses": {"200": _json(_ref("SlaEvent"), "The SLA event recorded (kind `warned`, reason "
                                                         "`referral: ...`, detail.level and detail.deadline)"),
                          **_errors(400, 401, 403, 404, 409)}}},
        "/instances/{instance_id}/sla": {"get": {
            "operationId": "getInstanceSla", "summary": "The case's SLA clocks (due, business time used, minutes "
                                                        "over, level) and its SLA events, newest first",
            "parameters": [instance_id],
            "responses": {"200": _json(_ref("Sla"), "The case's SLA"), **_errors(401, 404)}}},
        "/instances/{instance_id}/hold": {"post": {
            "operationId": "holdInstance",
            "summary": "Waiting on the client: put the case on hold, pausing its SLA clocks and business-time "
                       "timers (same people and scope as escalate)",
            "parameters": [instance_id],
            "requestBody": _body({"type": "object", "required": ["reason"], "properties": {
                "reason": {"type": "string", "minLength": 1, "maxLength": 500}}}, required=True),
            "responses": {"200": _json(_ref("Sla"), "The case's SLA, clocks paused"),
                          **_errors(400, 401, 403, 404, 409)}}},
        "/instances/{instance_id}/release": {"post": {
            "operationId": "releaseInstance",
            "summary": "The client replied: end the hold; clocks resume, due times move by the business time "
                       "spent waiting (same people and scope as escalate)",
            "parameters": [instance_id],
            "requestBody": _body({"type": "object", "properties": {"note": {"type": "string", "maxLength": 500}}}),
            "responses": {"200": _json(_ref("Sla"), "The case's SLA, clocks running"),
                          **_errors(400, 401, 403, 404, 409)}}},
        "/reports/{name}": {"get": {
            "operationId": "getReport",
            "summary": "One report table as JSON, e.g. sla_targets, sla_teams, sla_agents, wip (Manager, Admin)",
            "parameters": [
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "The table's name (docs/reports.md)"},
                {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "process", "in": "query", "schema": {"type": "string"}},
                {"name": "category", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": _json({"type": "object", "required": ["name", "columns", "rows"], "properties": {
                "name": {"type": "string"}, "title": {"type": "string"},
                "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                "columns": {"type": "array", "items": {"type": "string"}},
                "rows": {"type": "array", "items": {"type": "array"}}}}, "The table"),
                **_errors(400, 401, 403, 404)}}},
        "/tasks": {"get": {
            "operationId": "listTasks", "summary": "Open tasks the token's user may work on, soonest due first",
            "parameters": [
                {"name": "mine", "in": "query", "schema": {"type": "boolean"},
                 "description": "true: claimed by me; false: unclaimed in my lanes; "
                                "absent: every open task in my lanes"},
                {"name": "process", "in": "query", "schema": {"type": "string"}},
                {"name": "due", "in": "query", "schema": {"type": "string", "enum": ["overdue", "soon"]}},
                *PAGE_PARAMS],
            "responses": {"200": _json({"type": "object", "required": ["tasks"], "properties": {
                "tasks": {"type": "array", "items": _ref("Task")}}}, "The tasks"), **_errors(400, 401, 404)}}},
        "/tasks/{task_id}": {"get": {
            "operationId": "getTask", "summary": "One open task with its form", "parameters": [TASK_PARAM],
            "responses": {"200": _json(_ref("Task"), "The task"), **_errors(401, 403, 404)}}},
        "/tasks/{task_id}/claim": {"post": {
            "operationId": "claimTask", "summary": "Claim a task for the token's user", "parameters": [TASK_PARAM],
            "responses": {"200": _json(_ref("Task"), "The claimed task"), **_errors(401, 403, 404, 409)}}},
        "/tasks/{task_id}/unclaim": {"post": {
            "operationId": "unclaimTask", "summary": "Give a claimed task back to its lane",
            "parameters": [TASK_PARAM],
            "responses": {"200": _json(_ref("Task"), "The task"), **_errors(401, 403, 404, 409)}}},
        "/tasks/{task_id}/assign": {"post": {
            "operationId": "assignTask",
            "summary": "Assign, reassign or delegate a task to a user, or release it to its lane (`user`: null)",
            "description": "A supervisor of the task's lane may assign, reassign and release; the holder may "
                           "delegate or release; anyone in the lane may take an unassigned task. The new holder "
                           "must work in the lane and not be barred by separation of duties. Audited; the new "
                           "holder gets a mail.",
            "parameters": [TASK_PARAM],
            "requestBody": _body({"type": "object", "required": ["user"], "properties": {
                "user": {"type": ["string", "null"], "description": "The new holder's user name; null releases"}}},
                required=True),
            "responses": {"200": _json(_ref("Task"), "The task with its new holder"),
                          **_errors(400, 401, 403, 404, 409)}}},
        "/tasks/{task_id}/complete": {"post": {
            "operationId": "completeTask", "summary": "Complete a task with data validated against its form",
            "parameters": [TASK_PARAM],
            "requestBody": _body({"type": "object", "properties": {
                "data": {"type": "object"},
                "expected_version": {"type": "integer", "description": "The instance's `lock_version` you read; "
                                                                       "a newer one gives 409"}}}),
            "responses": {"200": _json(_ref("Instance"), "The instance after the task"),
                          **_errors(400, 401, 403, 404, 409, 422)}}},
        "/messages": {"post": {
            "operationId": "sendMessage",
            "summary": "Correlate a BPMN message with the one running instance waiting for it",
            "requestBody": _body({"type": "object", "required": ["name", "correlation"], "properties": {
                "name": {"type": "string", "minLength": 1, "description": "The BPMN message name"},
                "correlation": {"type": "object", "description": "e.g. {\"reference\": \"CMP-2026-000123\"}"},
                "payload": {"type": "object"}}}, required=True),
            "responses": {"200": _json(_ref("Instance"), "The instance that received the message"),
                          **_errors(400, 401, 404, 409, 422)}}},
        **client_paths(PAGE_PARAMS),
        **document_paths(),
    }


def document(server_url: str) -> dict[str, Any]:
    """The whole document, with `server_url` (…/api/v1) as its server."""
    titles = {400: "Malformed input", 401: "Missing or unknown API token", 403: "Not allowed",
              404: "Not found", 409: "Conflict", 422: "Invalid data"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "clientflow API", "version": "1.0.0",
                 "description": "Processes, instances, tasks and messages of clientflow. Every endpoint but this "
                                "document needs `Authorization: Bearer <token>` (tokens: Users page or "
                                "`clientflow users token NAME`); a token acts with its user's roles only."},
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "responses": {f"E{code}": _json(_ref("Error"), title) for code, title in titles.items()},
        },
    }


@cache
def _query_names() -> dict[tuple[str, str], frozenset[str]]:
    return {(method.upper(), path): frozenset(p["name"] for p in op.get("parameters", []) if p["in"] == "query")
            for path, item in paths().items() for method, op in item.items()}


def query_parameters(method: str, rule: str) -> frozenset[str]:
    """The query parameters the document gives the route `rule` (a Flask rule under /api/v1)."""
    path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.removeprefix("/api/v1"))
    return _query_names().get((method.upper(), path), frozenset())
