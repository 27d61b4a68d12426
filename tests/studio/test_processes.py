"""Process list, versions page, new process, import of a .bpmn or .zip (safely) and export of any version."""

import io
import zipfile

import pytest

from engine.core.archive import read_upload

XXE = ('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
       '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>')


def zipped(entries: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def upload(client, name: str, data: bytes, **fields):
    return client.post("/studio/import", data={"file": (io.BytesIO(data), name), **fields},
                       content_type="multipart/form-data")


def test_list_shows_versions_deployers_and_running_counts(sign_in, sla, engine, sla_bundle, text):
    engine.start("sla", by="alice")
    engine.start("sla", by="alice")
    bpmn = sla_bundle / "sla.bpmn"
    bpmn.write_text(bpmn.read_text().replace('"PT1H"', '"PT2H"'))
    engine.deploy(sla_bundle, by="root")
    engine.start("sla", by="alice")
    client = sign_in("po")
    index = text(client.get("/studio/"))
    assert "Complaint with SLA sla v2" in index and "by root" in index
    page = client.get("/studio/processes/sla")
    body = page.get_data(as_text=True)
    rows = {v: body.split(f'data-version="{v}"')[1].split("</tr>")[0] for v in (1, 2)}
    assert 'class="count">2<' in rows[1] and 'class="count">1<' in rows[2]
    assert "by" not in rows[1] or "po" in rows[1]
    assert "Changes from v1" in text(page)
    assert text(page).count("Check the move to v2") == 2


def test_unknown_process_is_404(sign_in, sla):
    assert sign_in("po").get("/studio/processes/nothing").status_code == 404
    assert sign_in("po").get("/studio/processes/nothing/versions/1.zip").status_code == 404


def test_export_round_trips_through_import(sign_in, sla, engine):
    client = sign_in("po")
    response = client.get("/studio/processes/sla/versions/1.zip")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith("sla-v1.zip")
    files = read_upload("sla-v1.zip", response.data)
    assert files == engine.definition_files("sla", 1)
    again = upload(client, "sla-v1.zip", response.data, key="sla_copy", deploy="y")
    assert again.status_code == 303
    assert engine.definition_files("sla_copy") == files


def test_new_process_opens_a_blank_draft(sign_in, people, engine):
    client = sign_in("po")
    response = client.post("/studio/new", data={"key": "suggestions", "name": "Suggestion box"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/studio/processes/suggestions/edit")
    draft = engine.draft("suggestions", "po")
    assert list(draft.files) == ["suggestions.bpmn"] and draft.base_version is None
    assert 'name="Suggestion box"' in draft.files["suggestions.bpmn"]
    editor = client.get("/studio/processes/suggestions/edit")
    assert editor.status_code == 200 and "new process" in editor.get_data(as_text=True)
    assert client.post("/studio/new", data={"key": "suggestions"}).status_code == 409


@pytest.mark.parametrize("key", ["Bad Key", "1abc", "a/b", ""])
def test_new_process_with_a_bad_key_is_refused(sign_in, people, engine, key):
    response = sign_in("po").post("/studio/new", data={"key": key})
    assert response.status_code == 422
    assert engine.drafts("po") == []


def test_import_a_bpmn_file_as_a_draft(sign_in, sla_bundle, people, engine):
    client = sign_in("po")
    response = upload(client, "sla.bpmn", (sla_bundle / "sla.bpmn").read_bytes())
    assert response.status_code == 303
    assert list(engine.draft("sla", "po").files) == ["sla.bpmn"]
    assert engine.processes() == []


def test_import_a_zip_and_deploy_right_away(sign_in, sla_bundle, people, engine):
    data = zipped({f"sla/{p.name}": p.read_text() for p in sla_bundle.iterdir()})
    response = upload(sign_in("po"), "sla.zip", data, deploy="y")
    assert response.status_code == 303
    [process] = engine.processes()
    assert (process.key, process.version, process.deployed_by) == ("sla", 1, "po")
    assert sorted(engine.definition_files("sla")) == ["escalate.json", "handle.json", "sla.bpmn"]


def test_import_deploy_refuses_a_model_with_errors(sign_in, sla_bundle, people, engine, text):
    broken = (sla_bundle / "sla.bpmn").read_text().replace('"PT1H"', '"one hour"')
    response = upload(sign_in("po"), "sla.bpmn", broken.encode(), deploy="y")
    assert response.status_code == 422
    assert "'one hour' is not an ISO 8601 duration" in text(response)
    assert engine.processes() == []


@pytest.mark.parametrize("name, data, message", [
    ("xxe.bpmn", XXE.encode(), "document type declarations (DTD, entities) are not allowed"),
    ("p.zip", zipped({"p.bpmn": XXE}), "document type declarations (DTD, entities) are not allowed"),
    ("p.zip", zipped({"../evil.bpmn": "<x/>"}), "unsafe path '../evil.bpmn'"),
    ("p.zip", zipped({"/etc/evil.bpmn": "<x/>"}), "unsafe path '/etc/evil.bpmn'"),
    ("p.zip", zipped({"a/b/c.bpmn": "<x/>"}), "unsafe path 'a/b/c.bpmn'"),
    ("p.zip", zipped({"p.bpmn": "<x/>", "run.sh": "rm -rf /"}), "only .bpmn, .dmn, .json files belong"),
    ("p.zip", zipped({"p.bpmn": "<x/>", "other/q.bpmn": "<x/>"}), "put every file at the top"),
    ("p.zip", zipped({"form.json": "{}"}), "the bundle holds no .bpmn file"),
    ("p.zip", zipped({"p.bpmn": "<x/>", "f.json": "{nope"}), "invalid JSON"),
    ("p.zip", b"PK\x03\x04 not really a zip", "not a valid zip archive"),
    ("p.exe", b"MZ", "upload a .bpmn file or a .zip"),
    ("p.bpmn", b"\xff\xfe\x00<", "not UTF-8 text"),
    ("p.bpmn", b"<unclosed>", "malformed XML"),
])
def test_unsafe_or_broken_uploads_are_refused_with_the_reason(sign_in, people, engine, text, name, data, message):
    response = upload(sign_in("po"), name, data)
    assert response.status_code == 422
    assert message in text(response)
    assert engine.drafts("po") == [] and engine.processes() == []


def test_zip_bomb_is_refused_before_it_is_unpacked(sign_in, people, engine, text):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("p.bpmn", "<x>" + " " * (6 * 1024 * 1024) + "</x>")
    assert len(buffer.getvalue()) < 100_000
    response = upload(sign_in("po"), "bomb.zip", buffer.getvalue())
    assert response.status_code == 422
    assert "more than the size limit" in text(response)


def test_upload_without_a_file_is_refused(sign_in, people):
    response = sign_in("po").post("/studio/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a .bpmn or .zip file." in response.get_data(as_text=True)


def test_an_upload_over_the_size_limit_is_refused_unread(sign_in, people, engine):
    response = upload(sign_in("po"), "big.bpmn", b"<x>" + b" " * (11 * 1024 * 1024) + b"</x>")
    assert response.status_code == 413
    assert engine.drafts("po") == []
