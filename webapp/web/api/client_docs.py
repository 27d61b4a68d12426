"""The OpenAPI description of the client-record endpoints (webapp/web/api/clients.py)."""

from __future__ import annotations

from typing import Any

CLIENT_FIELDS = {
    "kind": {"type": "string", "enum": ["organisation", "person"]},
    "name": {"type": "string", "maxLength": 200}, "registration_number": {"type": ["string", "null"]},
    "contact_name": {"type": ["string", "null"]}, "email": {"type": ["string", "null"], "format": "email"},
    "phone": {"type": ["string", "null"]},
    "preferred_channel": {"type": "string", "enum": ["email", "phone", "in_person", "post"]},
    "consent_surveys": {"type": "boolean"}, "consent_marketing": {"type": "boolean"},
    "relationship_manager": {"type": ["string", "null"]},
    "relationship_manager_email": {"type": ["string", "null"], "format": "email"},
    "sla_response_hours": {"type": ["integer", "null"], "minimum": 1, "maximum": 72},
    "sla_resolution_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 30},
    "status": {"type": "string", "enum": ["prospect", "active", "inactive"]},
}
CLIENT = {"type": "object", "properties": {"id": {"type": "integer"}, **CLIENT_FIELDS,
                                           "created_at": {"type": "string"}, "updated_at": {"type": "string"}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"$ref": f"#/components/responses/E{c}"} for c in codes}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def client_paths(page_params: list[dict[str, Any]]) -> dict[str, Any]:
    client_id = {"name": "client_id", "in": "path", "required": True,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647}}
    body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": CLIENT_FIELDS, "additionalProperties": False}}}}
    return {
        "/clients": {
            "get": {"operationId": "listClients", "summary": "Search client records by name, e-mail or "
                                                              "registration number",
                    "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}, *page_params],
                    "responses": {"200": _json({"type": "object", "properties": {
                        "clients": {"type": "array", "items": CLIENT}}}, "The clients"), **_errors(400, 401, 403)}},
            "post": {"operationId": "createClient", "summary": "Create a client record (scope `work`)",
                     "requestBody": body,
                     "responses": {"201": _json(CLIENT, "The new client"), **_errors(400, 401, 403, 422)}}},
        "/clients/{client_id}": {
            "get": {"operationId": "getClient", "summary": "A client with the agreed SLA and every case of theirs",
                    "parameters": [client_id],
                    "responses": {"200": _json(CLIENT, "The client, `sla` and `cases`"), **_errors(401, 403, 404)}},
            "patch": {"operationId": "correctClient",
                      "summary": "Correct a client record once: every case of the client uses the new details",
                      "parameters": [client_id], "requestBody": body,
                      "responses": {"200": _json(CLIENT, "The corrected client"),
                                    **_errors(400, 401, 403, 404, 422)}}},
        "/clients/{client_id}/cases": {
            "post": {"operationId": "linkCase", "summary": "Link a case, by its reference, to this client",
                     "parameters": [client_id],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["reference"],
                         "properties": {"reference": {"type": "string"}}}}}},
                     "responses": {"200": _json(CLIENT, "The client with its cases"),
                                   **_errors(400, 401, 403, 404)}}},
    }
