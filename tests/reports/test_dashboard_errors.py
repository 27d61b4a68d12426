"""A bad report filter is explained above the filters and the dashboard stays (it used to be replaced)."""

import pytest


@pytest.fixture
def manager(signed_in):
    return signed_in("maria", "Manager")


def test_a_bad_filter_keeps_the_dashboard(manager, dataset):
    response = manager.get("/reports/", query_string={"from": "2026-13-01"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "`from` is not a real date" in page and 'role="alert"' in page
    assert "Service reports" in page and 'name="from"' in page and "Monthly summary" in page
    assert "<table" in page  # the default period's tables are still there
