"""Every portal form carries a CSRF token; a post without one is a 400 that changes nothing."""

import re

import pytest

from tests.portal.support import COMPLAINT, link_path
from webapp import signing


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def token_of(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_logging_without_a_token_is_refused(client, engine, shipped, text):
    response = client.post("/portal/complaint/new", data=COMPLAINT)
    assert response.status_code == 400
    assert "did not come from our site, so nothing was saved" in text(response)
    assert engine.list_instances() == []
    token = token_of(client.get("/portal/complaint/new"))
    assert client.post("/portal/complaint/new", data={**COMPLAINT, "csrf_token": token}).status_code == 303
    assert len(engine.list_instances()) == 1


def test_tracking_without_a_token_is_refused(client, shipped, text):
    response = client.post("/portal/track", data={"reference": "CMP-2026-000001", "email": "a@example.com"})
    assert response.status_code == 400 and "nothing was saved" in text(response)
    token = token_of(client.get("/portal/track"))
    assert client.post("/portal/track", data={"reference": "CMP-2026-000001", "email": "a@example.com",
                                              "csrf_token": token}).status_code == 404


def test_survey_and_reply_without_a_token_are_refused(app, client, engine, closed_complaint, waiting_inquiry):
    survey = link_path(app, signing.survey_link, closed_complaint.id)
    reply = link_path(app, signing.reply_link, waiting_inquiry.id, "more_info")
    version = engine.instance(waiting_inquiry.id).lock_version
    assert client.post(survey, data={"rating": "5"}).status_code == 400
    assert client.post(reply, data={"message": "Meter 0412-556."}).status_code == 400
    assert engine.list_instances(key="feedback") == []
    assert engine.instance(waiting_inquiry.id).lock_version == version
    token = token_of(client.get(survey))
    assert client.post(survey, data={"rating": "5", "csrf_token": token}).status_code == 200
