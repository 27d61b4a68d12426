"""Attachments and documents are personal data of their case: listed in the data map, erased with the case."""

from __future__ import annotations

from sqlalchemy import select

from engine import privacy
from engine.clients.models import ClientDocument


def files_of(engine, instance_id: int) -> list[ClientDocument]:
    with engine.read_session() as session:
        return list(session.scalars(select(ClientDocument).where(ClientDocument.instance_id == instance_id)))


def test_the_data_map_lists_the_files_held_beside_each_case(engine, models, signed_in, text):
    [complaint] = [p for p in privacy.data_map(engine) if p.key == "complaint"]
    assert "client_document" in [r["table"] for r in complaint.as_dict()["records"]]
    page = text(signed_in("officer").get("/privacy/"))
    assert "Documents and attachments uploaded on the case or its tasks" in page and "deleted, content and all" in page


def test_erasure_deletes_the_case_attachments_and_leaves_other_cases_alone(engine, jane, piet):
    mine, other = jane.instances["complaint"], piet.instances["complaint"]
    engine.documents.attach(mine, f"letter from {jane.name}.txt", f"{jane.name}, {jane.email}\n".encode(),
                            by="agent")
    engine.documents.attach(other, "letter.txt", b"Piet's letter\n", by="agent")
    request = privacy.request_erasure(engine, [mine], "Client asked for erasure, ticket 4412", by="officer")
    privacy.approve_erasure(engine, request.id, by="officer2")
    assert files_of(engine, mine) == []
    assert [f.filename for f in files_of(engine, other)] == ["letter.txt"]
    uploaded = [e for e in engine.events(mine) if e.kind == "document_uploaded"]
    assert uploaded and jane.name not in str([e.detail for e in uploaded])  # the trail kept no file name
