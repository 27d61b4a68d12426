"""Logging a complaint or a suggestion on the portal: the start form, the website channel, the reference."""

from sqlalchemy import func, select

from engine.core.db.models import ProcessInstance
from tests.portal.support import COMPLAINT, address


def instance_count(engine) -> int:
    with engine.read_session() as session:
        return session.scalar(select(func.count()).select_from(ProcessInstance))


def test_start_page_offers_complaint_suggestion_and_tracking(client, shipped, text):
    page = text(client.get("/portal/"))
    assert "Log a complaint" in page and "Make a suggestion" in page and "Track a case" in page


def test_complaint_form_shows_client_fields_only(client, shipped):
    page = client.get("/portal/complaint/new").get_data(as_text=True)
    assert 'name="description"' in page and 'name="client_email"' in page
    assert 'name="channel"' not in page and 'name="source_reference"' not in page


def test_logged_complaint_gets_a_reference_and_the_website_channel(client, engine, log_complaint, text):
    reference = log_complaint(channel="hotline", source_reference="SUG-2026-000001")
    instance = engine.instance_by_reference(reference)
    assert reference.startswith("CMP-") and instance.key == "complaint_handling"
    assert instance.started_by == "portal"
    data = engine.instance_detail(instance.id).data
    assert data["channel"] == "website"
    assert data.get("source_reference") is None
    assert data["description"] == COMPLAINT["description"]
    assert reference in text(client.get("/portal/received"))


def test_complaint_without_email_is_refused_and_nothing_starts(client, engine, shipped, text):
    response = client.post("/portal/complaint/new", data={**COMPLAINT, "client_email": ""})
    assert response.status_code == 422
    assert "We need your e-mail address" in text(response)
    assert instance_count(engine) == 0


def test_invalid_complaint_names_the_field_and_starts_nothing(client, engine, shipped, text):
    response = client.post("/portal/complaint/new", data={**COMPLAINT, "description": "Late", "client_email": "x@"})
    assert response.status_code == 422
    page = text(response)
    assert "Field must be between 10 and 4000 characters long." in page
    assert "Not a valid e-mail address." in page
    assert instance_count(engine) == 0


def test_suggestion_may_be_anonymous(client, engine, shipped):
    response = client.post("/portal/suggestion/new", data={"suggestion": "Please open the office on Saturdays."})
    assert response.status_code == 303
    [instance] = engine.list_instances()
    assert instance.key == "suggestion" and instance.reference.startswith("SUG-")
    assert engine.instance_detail(instance.id).data["channel"] == "website"


def test_unknown_intake_is_not_found(client, shipped):
    assert client.get("/portal/onboarding/new").status_code == 404
    assert client.post("/portal/complaint_handling/new", data=COMPLAINT).status_code == 404


def test_over_the_limit_submissions_get_429_and_start_nothing(app, client, engine, shipped, clock, text):
    app.config["PORTAL_RATE_LIMITS"] = {"submit": (2, 3600)}
    for _ in range(2):
        assert client.post("/portal/complaint/new", data=COMPLAINT).status_code == 303
    response = client.post("/portal/suggestion/new", data={"suggestion": "Please open the office on Saturdays."})
    assert response.status_code == 429
    assert "Please wait a moment" in text(response) and "Nothing was changed" in text(response)
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    assert instance_count(engine) == 2
    assert client.post("/portal/complaint/new", data=COMPLAINT, **address(3)).status_code == 303
    clock.advance(hours=1)
    assert client.post("/portal/complaint/new", data=COMPLAINT).status_code == 303
    assert instance_count(engine) == 4
