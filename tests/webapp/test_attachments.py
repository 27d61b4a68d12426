"""Attachments on cases and tasks: upload, list, download; size, type and virus-scan limits; access by lane;
audited; the JSON API (multipart upload, list, download), onboarding documents included."""

from __future__ import annotations

import hashlib
import io
import stat

import pytest
from sqlalchemy import select

from engine.clients.models import ClientDocument

NOTE = b"Call notes: the client asked for the March statement again.\n"
PDF = b"%PDF-1.4\n% a letter from the client\n"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture
def scanner(tmp_path):
    """A real scan command in ClamAV's manner: exit 1 and a "FOUND" line for the EICAR test string, exit 2 for a
    file it cannot read as asked (one containing BROKEN-SCANNER), 0 otherwise."""
    script = tmp_path / "scan.sh"
    script.write_text('#!/bin/sh\n'
                      '[ "$1" = --no-summary ] || { echo "usage: scan.sh --no-summary FILE" >&2; exit 2; }\n'
                      'if grep -q BROKEN-SCANNER "$2"; then echo "cannot open $2" >&2; exit 2; fi\n'
                      'if grep -q EICAR-STANDARD "$2"; then echo "$2: Eicar-Test-Signature FOUND"; exit 1; fi\n'
                      'echo "$2: OK"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def app_config(app_config, scanner):
    return {**app_config, "UPLOAD_MAX_MB": 0.01, "UPLOAD_SCAN": f"{scanner} --no-summary"}


def stored(engine, instance_id: int) -> list[ClientDocument]:
    with engine.read_session() as session:
        return list(session.scalars(select(ClientDocument).where(ClientDocument.instance_id == instance_id)))


def attach(client, instance_id: int, content: bytes, name: str = "notes.txt"):
    return client.post(f"/documents/cases/{instance_id}", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_an_agent_attaches_a_file_to_a_case_and_downloads_it(engine, signed_in, signoff, text):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    olivia = signed_in("olivia")
    page = text(attach(olivia, instance.id, NOTE, "call notes.txt"))
    assert "“call notes.txt” is attached to the case" in page
    [row] = stored(engine, instance.id)
    assert (row.kind, row.filename, row.content_type, row.size) == ("attachment", "call notes.txt", "text/plain",
                                                                      len(NOTE))
    assert row.sha256 == hashlib.sha256(NOTE).hexdigest() and row.task_id is None
    assert "call notes.txt" in page and "Attachment" in page  # listed on the case page
    response = olivia.get(f"/documents/{row.id}")
    assert response.status_code == 200 and response.data == NOTE
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    kinds = [(e.kind, e.actor, e.detail.get("document")) for e in engine.events(instance.id)
             if e.kind.startswith("document_")]
    assert kinds == [("document_uploaded", "olivia", row.id), ("document_viewed", "olivia", row.id)]
    assert "call notes" not in str([e.detail for e in engine.events(instance.id)])  # the name may be personal


def test_files_are_for_staff_of_the_case_only(engine, signed_in, signoff, text):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    document = engine.documents.attach(instance.id, "notes.txt", NOTE, by="olivia")
    outsider = signed_in("alice")  # an Agent: not a lane of the sign-off process
    assert outsider.get(f"/documents/{document.id}").status_code == 403
    assert outsider.post(f"/documents/cases/{instance.id}", data={"file": (io.BytesIO(NOTE), "x.txt")},
                         content_type="multipart/form-data").status_code == 403
    assert "notes.txt" not in text(outsider.get(f"/instances/{instance.id}"))
    assert len(stored(engine, instance.id)) == 1
    assert signed_in("cora").get(f"/documents/{document.id}").data == NOTE  # the Compliance lane may
    assert signed_in("olivia").get("/documents/999999").status_code == 404


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the attachment file is empty"),
    (b"x" * 20_000, "the attachment file is 0.0 MB; the limit is"),
    (b"\x00\x01\x02 a program", "the attachment must be a PDF, PNG, JPEG or plain text file"),
    (EICAR, "refused by the virus scan: notes.txt: Eicar-Test-Signature FOUND"),
    (b"BROKEN-SCANNER", "could not be scanned (scanner exit status 2)"),
])
def test_a_refused_file_saves_nothing_and_says_why(engine, signed_in, signoff, text, content, message):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    page = text(attach(signed_in("olivia"), instance.id, content))
    assert "The file was not attached" in page and message in page
    assert stored(engine, instance.id) == []
    assert not [e for e in engine.events(instance.id) if e.kind == "document_uploaded"]


def test_files_attached_on_the_task_form_are_kept_with_the_task_name(engine, signed_in, signoff, open_task, text):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    task = open_task(instance.id, "collect")
    olivia = signed_in("olivia")
    assert 'name="attachments__files"' in olivia.get(f"/tasks/{task.id}").text
    version = engine.instance(instance.id).lock_version
    refused = olivia.post(f"/tasks/{task.id}", content_type="multipart/form-data", data={
        "expected_version": version, "attachments__files": [(io.BytesIO(PDF), "letter.pdf"),
                                                            (io.BytesIO(EICAR), "bad.txt")]})
    assert refused.status_code == 422 and "Attachment “bad.txt”" in text(refused)
    assert engine.tasks(instance_id=instance.id)[0].id == task.id  # not completed
    [letter] = stored(engine, instance.id)
    assert (letter.filename, letter.task_id, letter.task_name) == ("letter.pdf", task.id, "Collect documents")
    done = olivia.post(f"/tasks/{task.id}", content_type="multipart/form-data", data={
        "expected_version": version, "attachments__files": [(io.BytesIO(NOTE), "notes.txt")]})
    assert done.status_code == 303
    assert sorted(r.filename for r in stored(engine, instance.id)) == ["letter.pdf", "notes.txt"]
    assert "(on “Collect documents”)" in text(olivia.get(f"/instances/{instance.id}"))


def test_the_api_uploads_lists_and_downloads_case_files(engine, client, signoff, open_task, token_for):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    task = open_task(instance.id, "collect")
    olivia, url = token_for("olivia"), f"/api/v1/instances/{instance.id}/documents"
    response = client.post(url, headers=olivia, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(PDF), "letter.pdf"), "task_id": task.id})
    assert response.status_code == 201, response.json
    made = response.json
    assert (made["kind"], made["content_type"], made["task_name"]) == ("attachment", "application/pdf",
                                                                        "Collect documents")
    assert made["sha256"] == hashlib.sha256(PDF).hexdigest() and response.headers["Location"] == \
        f"/api/v1/documents/{made['id']}"
    document = client.post(url, headers=olivia, content_type="multipart/form-data", data={
        "file": (io.BytesIO(PDF), "id.pdf"), "kind": "id", "expires_on": "2030-01-31"})
    assert document.status_code == 201 and document.json["expires_on"] == "2030-01-31"
    listed = client.get(url, headers=olivia).json["documents"]
    assert [d["id"] for d in listed] == [made["id"], document.json["id"]]
    download = client.get(f"/api/v1/documents/{made['id']}", headers=olivia)
    assert download.status_code == 200 and download.data == PDF and download.mimetype == "application/pdf"
    for data, message in (({"kind": "id", "file": (io.BytesIO(PDF), "id.pdf")}, "give the expiry date"),
                          ({"file": (io.BytesIO(EICAR), "x.txt")}, "virus scan"),
                          ({"colour": "red", "file": (io.BytesIO(PDF), "x.pdf")}, "unknown field(s) colour"),
                          ({"kind": "attachment"}, "send the file as the multipart field `file`")):
        refused = client.post(url, headers=olivia, content_type="multipart/form-data", data=data)
        assert refused.status_code == 400 and message in refused.json["error"]["message"]
    assert len(client.get(url, headers=olivia).json["documents"]) == 2
    outsider = token_for("alice")
    assert client.get(url, headers=outsider).status_code == 403
    assert client.get(f"/api/v1/documents/{made['id']}", headers=outsider).status_code == 403
    assert client.post(url, headers=outsider, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(PDF), "x.pdf")}).status_code == 403
    assert client.get("/api/v1/documents/999999", headers=olivia).status_code == 404


def test_the_attachment_setting_names_a_callable_too(engine):
    from engine.clients.uploads import scanner_from

    scan = scanner_from("tests.webapp.test_attachments:refuse_everything")
    assert scan(b"anything", "a.txt") == "refused by the test hook"
    with pytest.raises(ValueError, match="cannot be imported"):
        scanner_from("tests.webapp.test_attachments:missing")


def refuse_everything(content: bytes, filename: str | None) -> str:
    return "refused by the test hook"
