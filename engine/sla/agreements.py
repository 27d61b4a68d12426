"""Targets agreed with a case's client, read from the client record (engine/clients) on the save's connection."""

from sqlalchemy.orm import Session

from engine.clients import cases, records


def of_case(conn, instance_id: int) -> dict:
    """`{"sla_response_hours": ..., "sla_resolution_days": ...}` agreed with the case's client; empty when the case
    has no client or the client agreed nothing (then the case's own `sla_*` data applies)."""
    with Session(bind=conn) as session:  # joins the caller's transaction: never commits or rolls it back
        client_id = cases.client_of(session, instance_id)
        if client_id is None:
            return {}
        agreed = records.agreed_sla(session, client_id)
    values = {"sla_response_hours": agreed.response_hours, "sla_resolution_days": agreed.resolution_days}
    return {key: value for key, value in values.items() if value is not None}
