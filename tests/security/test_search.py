"""Search matches only what the searcher may see, takes `%` and `_` literally, and logs what it shows."""

from __future__ import annotations

import string

from engine.privacy import access_log


def test_a_hidden_label_cannot_be_rebuilt_one_character_at_a_time(engine, order, staff, token_for, signed_in):
    engine.start("order", {"customer_name": "blue_crane_bakery"}, by="alice")
    outsider = token_for("sam")  # a Supervisor: not in the order process's lanes, sees `[restricted]`
    client = signed_in("sam")

    def found(term: str) -> bool:
        """The attacker's oracle: a row comes back that the term did not match by its (visible) reference."""
        rows = client.get("/api/v1/instances", query_string={"q": term}, headers=outsider).json["instances"]
        return any(term.lower() not in (r["reference"] or "").lower() for r in rows)

    guessed = ""
    for _ in range(20):
        step = next((c for c in string.ascii_lowercase + "_" if found(guessed + c)), None)
        if step is None:
            break
        guessed += step
    assert guessed == ""  # not one character leaks
    assert not found("blue_crane_bakery")
    missing, restricted = (client.get("/instances/", query_string={"q": q}) for q in ("no_such_client",
                                                                                      "blue_crane_bakery"))
    assert missing.status_code == restricted.status_code == 200
    assert missing.get_data(as_text=True).replace("no_such_client", "X") == \
        restricted.get_data(as_text=True).replace("blue_crane_bakery", "X")


def test_like_wildcards_are_taken_literally(engine, order, staff, signed_in, text):
    literal = engine.start("order", {"customer_name": "A_B 100% Ltd"}, by="alice")
    other = engine.start("order", {"customer_name": "AXB 1000 Ltd"}, by="alice")
    bob = signed_in("bob")
    for term in ("A_B", "100%", "_", "%"):
        page = text(bob.get("/instances/", query_string={"q": term}))
        assert literal.reference in page and other.reference not in page, term


def test_a_search_showing_client_labels_is_in_the_access_log(app, engine, order, staff, signed_in, token_for):
    acme = engine.start("order", {"customer_name": "ACME"}, by="alice")
    signed_in("bob").get("/instances/?q=acm")
    signed_in("sam").get("/instances/?q=acm")  # matches nothing for sam: nothing was seen, nothing logged
    app.test_client().get("/api/v1/instances?q=ACME", headers=token_for("carol"))
    with engine.sql_engine.connect() as conn:
        entries = access_log.search(conn, action="search")
    assert [(e.actor, e.channel, e.subjects, e.why) for e in entries] == [
        ("carol", "api", [acme.id], "search: ACME"), ("bob", "web", [acme.id], "search: acm")]
