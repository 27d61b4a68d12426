"""Labels staff read: form titles and option labels instead of codes, durations in words, element names (not ids)
in the audit trail, times in one display time zone with the offset."""

import re
from pathlib import Path

import pytest

from engine.forms.labels import FieldLabel, Labels, duration_words
from webapp.config import display_timezone

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
ONBOARDING = {"company_name": "Umbrella", "contact_name": "Al", "client_email": "al@umbrella.example",
              "preferred_channel": "in_person", "services": ["logistics", "portal_access"]}


def test_the_audit_trail_names_the_elements(engine, signed_in, signoff, open_task):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    task = open_task(instance.id)
    engine.claim(task.id, "olivia")
    engine.complete(task.id, {}, by="olivia")
    page = signed_in("olivia").get(f"/instances/{instance.id}").get_data(as_text=True)
    assert '<span title="collect">Collect documents</span>' in page and ">collect<" not in page


def test_case_data_reads_as_the_forms_say(engine, signed_in, text):
    engine.deploy(PROCESSES / "client_onboarding.bpmn", by="root")
    instance = engine.start("client_onboarding", ONBOARDING, by="root")
    page = text(signed_in("root").get(f"/instances/{instance.id}"))
    assert "How the client prefers to be contacted In person" in page
    assert "Services taken up Logistics, Portal access" in page
    assert "First check-in after activation 30 days" in page and "Second check-in after activation 90 days" in page
    assert not re.search(r"\b(P30D|P90D|in_person|portal_access|Checkin first)\b", page)
    # the audit trail names the fields the start set, not their keys
    assert "Fields First check-in after activation, Second check-in after activation" in page
    assert "checkin_first" not in page.replace("(checkin_first)", "")  # only the correction form's field list


def test_the_task_page_shows_the_case_data_with_labels(engine, signed_in, open_task):
    engine.deploy(PROCESSES / "client_onboarding.bpmn", by="root")
    instance = engine.start("client_onboarding", ONBOARDING, by="root")
    page = signed_in("root").get(f"/tasks/{open_task(instance.id).id}").get_data(as_text=True)
    assert "<dt>Services taken up</dt><dd>Logistics, Portal access</dd>" in page


def test_durations_in_words():
    assert duration_words("P5D") == "5 days" and duration_words("P1D", business=True) == "1 business day"
    assert duration_words("PT1H30M") == "1 hour 30 minutes" and duration_words("P1Y2M3W") == "1 year 2 months 3 weeks"
    assert duration_words("PT0.5S") == "0.5 seconds" and duration_words("PT0S") == "no time"
    assert [duration_words(v) for v in ("P", "5 days", "PT", None, 5)] == [None] * 5


def test_labels_leave_what_they_do_not_know():
    labels = Labels({"channel": FieldLabel("Received via", {"email": "E-mail", "true": "Yes"})})
    assert labels.title("channel") == "Received via" and labels.title("welcome_note") == "Welcome note"
    assert labels.value("channel", "email") == "E-mail" and labels.value("channel", "fax") == "fax"
    assert labels.value("stage", "welcome_sent") == "Welcome sent"  # a script's code, not a form's
    assert labels.value("channel", "welcome_sent") == "welcome_sent"  # a form field keeps what it holds
    assert labels.value("note", "Call back") == "Call back" and labels.value("channel", True) is True
    assert labels.rows({"stage": "done", "channel": "email"}) == [("Received via", "E-mail"), ("Stage", "done")]


def test_times_show_in_johannesburg_with_the_offset(engine, signed_in, signoff, clock):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")  # the clock says 09:00 UTC
    assert clock.now().hour == 9
    page = signed_in("olivia").get(f"/instances/{instance.id}").get_data(as_text=True)
    assert f"{clock.now():%Y-%m-%d} 11:00 +02:00" in page and ">2026-03-02 09:00" not in page


class TestAnotherZone:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "DISPLAY_TIMEZONE": "Europe/London"}

    def test_the_display_zone_is_a_setting(self, engine, signed_in, signoff, clock):
        engine.start("signoff", {"client_name": "Acme"}, by="olivia")
        page = signed_in("olivia").get("/inbox/?view=group").get_data(as_text=True)
        assert f"{clock.now():%Y-%m-%d} 09:00 +00:00" in page


def test_an_unknown_zone_is_refused_at_start():
    with pytest.raises(ValueError, match="not an IANA time zone"):
        display_timezone("Mars/Olympus_Mons")
    assert display_timezone("UTC") == "UTC"


def test_the_portal_marks_the_e_mail_it_requires(engine, app):
    engine.deploy(PROCESSES / "complaint_handling.bpmn", by="root")
    page = app.test_client().get("/portal/complaint/new").get_data(as_text=True)
    email = re.search(r'<label for="client_email">[^<]*</label>( <span class="req"[^>]*>\*</span>)?\s*<input[^>]*>',
                      page)
    assert email and email.group(1) and " required " in email.group(0) + " "
    notice = re.sub(r"<[^>]+>|\s+", " ", page[page.index('id="collection-notice"'):])
    assert re.search(r"We need [^.;]*E-mail address[^.;]* to handle this", notice, re.I), notice
