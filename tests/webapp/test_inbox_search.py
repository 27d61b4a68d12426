"""The inbox's search, sort, saved views and paging limits."""

from datetime import timedelta


def start(engine, name: str, by: str = "olivia"):
    return engine.start("signoff", {"client_name": name}, by=by)


def positions(page: str, *needles: str) -> list[int]:
    return [page.index(n) for n in needles]


def test_search_matches_reference_client_and_task_name(engine, signed_in, signoff, order, text):
    acme, zeta = start(engine, "Acme Trading"), start(engine, "Zeta Foods")
    engine.start("order", {"customer_name": "Acme Orders"}, by="alice")
    olivia = signed_in("olivia")
    page = text(olivia.get("/inbox/?view=group&q=acme"))
    assert acme.reference in page and zeta.reference not in page
    assert "Acme Orders" not in page  # that task is in a lane olivia does not work in
    page = text(olivia.get(f"/inbox/?view=group&q={zeta.reference.lower()}"))
    assert zeta.reference in page and acme.reference not in page
    page = text(olivia.get("/inbox/?view=group&q=COLLECT doc"))
    assert acme.reference in page and zeta.reference in page
    assert "matching these filters" in text(olivia.get("/inbox/?view=group&q=nothing-like-this"))
    assert "No unclaimed tasks" in text(signed_in("cora").get("/inbox/?view=group&q=acme"))


def test_like_wildcards_in_the_search_are_literal(engine, signed_in, signoff, text):
    plain, percent = start(engine, "Plain Client"), start(engine, "100% Client_A")
    olivia = signed_in("olivia")
    for q in ("%", "_", "0%", "t_A"):
        page = text(olivia.get("/inbox/", query_string={"view": "group", "q": q}))
        assert percent.reference in page and plain.reference not in page, q


def test_sortable_columns(engine, signed_in, signoff, order, clock, text):
    first = start(engine, "First")
    clock.advance(timedelta(minutes=30))
    second = start(engine, "Second")
    admin = signed_in("root")
    engine.start("order", {"customer_name": "Order"}, by="alice")
    by_due = text(admin.get("/inbox/?view=group&process=signoff"))
    assert positions(by_due, first.reference, second.reference) == sorted(positions(by_due, first.reference,
                                                                                    second.reference))
    latest = text(admin.get("/inbox/?view=group&process=signoff&sort=-due"))
    a, b = positions(latest, first.reference, second.reference)
    assert b < a
    waiting = text(admin.get("/inbox/?view=group&sort=waiting"))
    a, b = positions(waiting, first.reference, second.reference)
    assert a < b
    by_process = text(admin.get("/inbox/?view=group&sort=process"))
    assert by_process.index("Capture order") < by_process.index(first.reference)  # "order" < "signoff"
    assert admin.get("/inbox/?view=group&sort=nonsense").status_code == 200  # falls back to due date


def test_saved_views_are_per_user(engine, signed_in, signoff, text):
    acme = start(engine, "Acme Trading")
    olivia = signed_in("olivia")
    response = olivia.post("/inbox/views", data={"name": "Acme", "view": "group", "q": "acme", "sort": "-due",
                                                 "evil": "x"})
    assert response.status_code == 303 and "q=acme" in response.headers["Location"]
    assert "evil" not in response.headers["Location"]
    page = text(olivia.get("/inbox/"))
    assert "Saved views" in page and "Acme" in page
    [view] = engine.saved_views("olivia")
    assert view.params == {"view": "group", "q": "acme", "sort": "-due"}
    assert acme.reference in text(olivia.get(response.headers["Location"]))
    assert engine.saved_views("oscar") == []
    assert signed_in("oscar").post(f"/inbox/views/{view.id}/delete").status_code == 404
    response = olivia.post("/inbox/views", data={"name": " ", "view": "group"}, follow_redirects=True)
    assert "The view was not saved" in text(response)
    assert olivia.post(f"/inbox/views/{view.id}/delete").status_code == 303
    assert engine.saved_views("olivia") == []


def test_filters_wait_for_the_button(signed_in, signoff):
    page = signed_in("olivia").get("/inbox/").text
    assert "data-autosubmit" not in page and '<button type="submit">Apply</button>' in page


def test_a_huge_page_number_is_a_bad_request(signed_in, signoff):
    olivia = signed_in("olivia")
    for path in ("/inbox/?page=99999999999999999999", "/inbox/?page=100001", "/instances/?page=99999999999999"):
        assert olivia.get(path).status_code == 400, path


def test_the_portal_has_its_own_404_page(client):
    response = client.get("/portal/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Back to your inbox" not in page and 'href="/portal/"' in page


def test_an_anonymous_visitor_finds_the_client_portal(client):
    response = client.get("/", follow_redirects=True)
    assert response.request.path == "/login" and 'href="/portal/"' in response.get_data(as_text=True)


def test_the_overview_redacts_client_names_outside_my_lanes(engine, signed_in, signoff, order, text):
    engine.start("order", {"customer_name": "Zebra Holdings"}, by="alice")  # the Agent and Reviewer lanes
    engine.start("signoff", {"client_name": "Acme Trading"}, by="olivia")
    page = text(signed_in("olivia").get("/"))
    assert "Acme Trading" in page and "Zebra Holdings" not in page and "[restricted]" in page
    assert "Zebra Holdings" in text(signed_in("alice").get("/"))
