"""Labels staff read: element names (not ids) in the audit trail, times in one display time zone with the offset."""

import pytest

from webapp.config import display_timezone


def test_the_audit_trail_names_the_elements(engine, signed_in, signoff, open_task):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    task = open_task(instance.id)
    engine.claim(task.id, "olivia")
    engine.complete(task.id, {}, by="olivia")
    page = signed_in("olivia").get(f"/instances/{instance.id}").get_data(as_text=True)
    assert 'Collect documents<div class="sub">collect</div>' in page


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
