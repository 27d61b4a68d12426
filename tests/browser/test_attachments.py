"""An agent attaches files to a case (its page and a task form) and downloads them; a user outside the case's
lanes gets 403; the case page with its files fits a phone and passes axe."""

import pytest

from .conftest import MODELS
from .test_accessibility import axe  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

NOTES = b"Call notes, 3 March: the client will send the bank letter on Friday.\n"
LETTER = b"%PDF-1.4\n% the client's covering letter\n"
WIDE = "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391).map(e => " \
       "e.tagName + '.' + e.className).slice(0, 5)"


@pytest.fixture
def case(make_user, engine):
    make_user("olivia", "Onboarding Officer")
    make_user("alice", "Customer Care Agent")
    engine.deploy(MODELS / "signoff", by="olivia")
    return engine.start("signoff", {"client_name": "Acme"}, by="olivia")


def test_an_agent_attaches_a_file_and_downloads_it_and_an_outsider_cannot(case, sign_in, engine, axe):  # noqa: F811
    page = sign_in("olivia")
    page.goto(f"/instances/{case.id}")
    page.get_by_label("Attach a file").set_input_files(
        {"name": "call notes.txt", "mimeType": "text/plain", "buffer": NOTES})
    page.get_by_role("button", name="Attach", exact=True).click()
    page.get_by_text("“call notes.txt” is attached to the case").wait_for()
    with page.expect_download() as download:
        page.get_by_role("link", name="call notes.txt").click()
    assert download.value.suggested_filename == "call notes.txt"
    assert open(download.value.path(), "rb").read() == NOTES

    # On the task form: the file goes with a saved draft, noted as added on that task.
    [task] = engine.tasks(instance_id=case.id)
    page.goto(f"/tasks/{task.id}")
    page.get_by_label("Attach files to the case").set_input_files(
        {"name": "letter.pdf", "mimeType": "application/pdf", "buffer": LETTER})
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved: your answers").wait_for()
    assert page.get_by_role("link", name="letter.pdf").is_visible()
    page.goto(f"/instances/{case.id}")
    assert page.get_by_text("(on “Collect documents”)").is_visible()
    assert axe(page) == {}
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.evaluate(WIDE)

    # A refused file says why on the page and is not listed.
    page.get_by_label("Attach a file").set_input_files(
        {"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00\x03 binary"})
    page.get_by_role("button", name="Attach", exact=True).click()
    page.get_by_text("The file was not attached: the attachment must be a PDF, PNG, JPEG or plain text").wait_for()
    assert page.get_by_role("link", name="tool.exe").count() == 0

    outsider = sign_in("alice")
    [document] = [d for d in engine.documents.of_instance(case.id) if d.filename == "call notes.txt"]
    response = outsider.goto(f"/documents/{document.id}")
    assert response.status == 403
    outsider.goto(f"/instances/{case.id}")
    assert outsider.get_by_role("link", name="call notes.txt").count() == 0
    assert outsider.get_by_label("Attach a file").count() == 0
