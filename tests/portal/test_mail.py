"""The portal's links in real mails (aiosmtpd): the acknowledgement's status link and the survey invitation's link."""

import re
from urllib.parse import urlsplit

import pytest

from tests.portal.support import COMPLAINT, PUBLIC_URL, mail_text


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "SMTP_URL": smtp_server.url}


def link_in(message, kind: str) -> str:
    found = re.search(rf"{re.escape(PUBLIC_URL)}/portal/{kind}[^\s]*", mail_text(message))
    assert found, mail_text(message)
    return found.group(0).rstrip(".,)")  # the sentence around the link ends with a full stop


def test_acknowledgement_carries_the_reference_and_a_status_link(client, engine, staff, smtp_server, deliver,
                                                                 log_complaint, text):
    reference = log_complaint()  # acknowledged at receipt: nobody has registered it yet
    deliver()
    [ack] = [m for m in smtp_server.messages if m["To"] == COMPLAINT["client_email"]]
    assert ack["Subject"].startswith("We have received your complaint")
    assert reference in ack["Subject"] and f"Your reference number is {reference}" in mail_text(ack)
    status = urlsplit(link_in(ack, "track"))
    page = client.get(f"{status.path}?{status.query}").get_data(as_text=True)
    assert f'value="{reference}"' in page


def test_survey_invitation_link_opens_the_survey_once(client, engine, smtp_server, deliver, closed_complaint, text):
    deliver()
    [invitation] = [m for m in smtp_server.messages if m["Subject"].startswith("How did we do?")]
    assert invitation["To"] == COMPLAINT["client_email"]
    survey = urlsplit(link_in(invitation, "survey")).path
    assert client.post(survey, data={"rating": "5", "comments": "Sorted in a day."}).status_code == 200
    assert client.get(survey).status_code == 410
    [answer] = engine.list_instances(key="feedback")
    assert engine.instance_detail(answer.id).data["about_reference"] == closed_complaint.reference

