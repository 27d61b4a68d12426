"""The inbox search covers each case's searchable fields (`x-searchable` in a form, or the process's
`searchableFields`), personal ones only for users who may see the case's personal data; erasure clears them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import privacy
from engine.casework.models import CaseSearchValue
from tests.support import give_capture_a_form

FORM = {"type": "object", "required": ["amount"], "properties": {
    "amount": {"type": "integer", "title": "Amount"},
    "order_number": {"type": "string", "title": "Order number", "x-searchable": True},
    "buyer": {"type": "object", "title": "Buyer", "properties": {
        "email": {"type": "string", "title": "Buyer e-mail", "x-searchable": True, "x-personal": True}}}}}


@pytest.fixture
def searchable_order(engine, order_bundle):
    give_capture_a_form(order_bundle, FORM)
    bpmn = order_bundle / "order.bpmn"
    bpmn.write_text(bpmn.read_text().replace(
        '<spiffworkflow:property name="referencePrefix" value="ORD" />',
        '<spiffworkflow:property name="referencePrefix" value="ORD" />'
        '<spiffworkflow:property name="searchableFields" value="region" />', 1))
    engine.deploy(order_bundle, by="root")


def captured(engine, open_task, name: str, order_number: str, email: str, region: str):
    """An order captured by alice, now waiting at the Reviewer lane's "Review order"."""
    instance = engine.start("order", {"customer_name": name, "region": region}, by="alice")
    engine.complete(open_task(instance.id, "capture").id, {"amount": 5000, "order_number": order_number,
                                                            "buyer": {"email": email}}, by="alice")
    open_task(instance.id, "review")
    return instance


def values(engine, instance_id: int) -> dict[str, tuple[str, bool]]:
    with engine.read_session() as session:
        rows = session.scalars(select(CaseSearchValue).where(CaseSearchValue.instance_id == instance_id))
        return {r.name: (r.value, r.personal) for r in rows}


def test_the_inbox_finds_cases_by_their_searchable_fields(engine, signed_in, searchable_order, open_task, text):
    zeta = captured(engine, open_task, "Zeta Foods", "PO-77812", "buyer@zeta.example", "Limpopo")
    acme = captured(engine, open_task, "Acme Trading", "PO-10001", "orders@acme.example", "Gauteng")
    assert values(engine, zeta.id) == {"order_number": ("PO-77812", False),
                                       "buyer.email": ("buyer@zeta.example", True), "region": ("Limpopo", False)}
    carol = signed_in("carol")  # works in the Reviewer lane
    for q in ("po-778", "buyer@zeta", "limpopo"):
        page = text(carol.get("/inbox/", query_string={"view": "group", "q": q}))
        assert zeta.reference in page and acme.reference not in page, q
    # A supervisor's team view spans lanes whose personal data they may not see: no personal field matches.
    sam = signed_in("sam")
    assert zeta.reference in text(sam.get("/inbox/?view=team&q=PO-77812"))
    assert zeta.reference not in text(sam.get("/inbox/?view=team&q=buyer@zeta"))
    # Users outside the lane find nothing, searchable field or not.
    assert zeta.reference not in text(signed_in("olivia").get("/inbox/?view=group&q=PO-77812"))


def test_changed_and_erased_values_leave_the_search(engine, signed_in, searchable_order, open_task, text):
    zeta = captured(engine, open_task, "Zeta Foods", "PO-77812", "buyer@zeta.example", "Limpopo")
    engine.correct_variable(zeta.id, "order_number", "PO-99999", "typo in the order number", by="root")
    assert values(engine, zeta.id)["order_number"] == ("PO-99999", False)
    carol = signed_in("carol")
    assert zeta.reference not in text(carol.get("/inbox/?view=group&q=PO-77812"))
    assert zeta.reference in text(carol.get("/inbox/?view=group&q=PO-99999"))
    engine.cancel(zeta.id, by="root", reason="test")
    privacy.erase_instance(engine, zeta.id, "root", basis="test")
    assert "buyer@zeta.example" not in str(values(engine, zeta.id))
    assert values(engine, zeta.id)["buyer.email"] == (privacy.TOMBSTONE, True)


def test_the_instance_list_search_covers_them_too(engine, signed_in, searchable_order, open_task, text, client,
                                                  token_for):
    zeta = captured(engine, open_task, "Zeta Foods", "PO-77812", "buyer@zeta.example", "Limpopo")
    acme = captured(engine, open_task, "Acme Trading", "PO-10001", "orders@acme.example", "Gauteng")
    carol, olivia = signed_in("carol"), signed_in("olivia")
    for q in ("PO-77812", "buyer@zeta"):
        page = text(carol.get("/instances/", query_string={"q": q}))
        assert zeta.reference in page and acme.reference not in page, q
    # Outside the process's lanes: the order number is found, the buyer's address is not (it is personal).
    assert zeta.reference in text(olivia.get("/instances/?q=PO-77812"))
    assert zeta.reference not in text(olivia.get("/instances/?q=buyer@zeta"))
    found = client.get("/api/v1/instances?q=limpopo", headers=token_for("carol")).json["instances"]
    assert [i["id"] for i in found] == [zeta.id]
