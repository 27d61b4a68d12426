"""Mail templates and SMTP settings: every template renders with any fields; SMTP_URL forms."""

import re
from pathlib import Path

import pytest

from webapp.worker import mail

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
STAFF_TEMPLATES = {"sla_warning", "escalation", "checkin_reminder"}

FULL = {"reference": "CMP-2026-000042", "name": "Ana Lima", "status": "in_progress", "message": "We called them.",
        "due_at": "2026-03-02T09:30:00+00:00", "task_name": "Investigate",
        "decision": "approved", "survey_url": "https://example.com/s/1", "relationship_manager": "Ben Ode",
        "client_name": "ACME Ltd", "reason": "two signatures missing", "unexpected": {"nested": [1, 2]}}


@pytest.mark.parametrize("template", mail.TEMPLATES)
@pytest.mark.parametrize("fields", [{}, FULL], ids=["no fields", "all fields"])
def test_every_template_renders_text_and_html(template, fields):
    rendered = mail.render(template, fields)
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and "{{" not in rendered.text and "None" not in rendered.text
    assert rendered.html.startswith("<!doctype html>") and "</html>" in rendered.html
    if fields:
        greeting = rendered.text.splitlines()[0]
        assert greeting == ("Hello," if template in STAFF_TEMPLATES else "Dear Ana Lima,")
        assert "CMP-2026-000042" in rendered.text and "CMP-2026-000042" in rendered.html
        assert "nested" not in rendered.text  # fields a template does not know are left out


def test_every_template_the_shipped_models_use_exists():
    used = {name for path in PROCESSES.glob("*.bpmn")
            for name in re.findall(r'notify\(\s*"([a-z0-9_]+)"', path.read_text())}
    assert used <= set(mail.TEMPLATES), used - set(mail.TEMPLATES)


def test_acknowledgement_carries_the_reference_number_in_subject_and_body():
    rendered = mail.render("complaint_acknowledgement", {"reference": "CMP-2026-000007", "name": "Ana"})
    assert "CMP-2026-000007" in rendered.subject
    assert "Your reference number is CMP-2026-000007" in rendered.text


def test_process_data_is_escaped_in_html_and_cannot_break_the_subject():
    rendered = mail.render("status_update", {"reference": "R-1\nBcc: x@evil.example", "name": "<script>x</script>",
                                             "message": "<b>hi</b>"})
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "&lt;b&gt;hi&lt;/b&gt;" in rendered.html
    assert rendered.subject == "Update on your case R-1 Bcc: x@evil.example"


@pytest.mark.parametrize("decision, words", [("approved", "approved"), ("rejected", "unable to proceed"),
                                             ("more_information", "more information"), ("deferred", "deferred")])
def test_compliance_decision_wording_follows_the_decision(decision, words):
    assert words in mail.render("compliance_decision", {"decision": decision}).text


def test_unknown_template_is_an_error_not_a_blank_mail():
    with pytest.raises(mail.UnknownTemplate, match="no_such_template"):
        mail.render("no_such_template", {})


def test_dates_from_process_data_read_like_dates():
    rendered = mail.render("sla_warning", {"due_at": "2026-03-02T09:30:00+00:00", "task_name": "Reply"})
    assert "is due 02 Mar 2026 09:30 UTC" in rendered.text


@pytest.mark.parametrize("url, expected", [
    ("smtp://mail.example.com", mail.SmtpSettings("mail.example.com", 25)),
    ("smtp://u%40x:p%2Fw@mail.example.com:587?starttls=1",
     mail.SmtpSettings("mail.example.com", 587, "u@x", "p/w", starttls=True)),
    ("smtps://u:p@mail.example.com?timeout=5", mail.SmtpSettings("mail.example.com", 465, "u", "p", tls=True,
                                                                  timeout=5.0)),
])
def test_smtp_url_forms(url, expected):
    assert mail.SmtpSettings.from_url(url) == expected


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "mail.example.com:25"])
def test_bad_smtp_url_is_refused(url):
    with pytest.raises(ValueError, match="SMTP_URL must look like"):
        mail.SmtpSettings.from_url(url)


def test_message_has_both_parts_and_the_given_message_id():
    rendered = mail.render("survey_invitation", {"reference": "R-9"})
    message = mail.build_message(rendered, sender="Team <team@example.com>", recipient="ana@example.com",
                                 message_id="<n1@example.com>")
    assert message["Message-ID"] == "<n1@example.com>"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert mail.sender_domain("Team <team@example.com>") == "example.com"
