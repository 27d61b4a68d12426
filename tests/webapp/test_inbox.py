"""The inbox: my tasks, group tasks by lane, filters, due-date highlighting, paging, claim and unclaim."""

from datetime import timedelta


def start_signoffs(engine, count: int, by: str = "olivia"):
    return [engine.start("signoff", {"client_name": f"Client {n}"}, by=by) for n in range(count)]


def test_group_tasks_are_the_unclaimed_tasks_of_my_lanes(engine, signed_in, order, signoff, text):
    engine.start("order", {"customer_name": "ACME"}, by="alice")
    start_signoffs(engine, 1)
    page = text(signed_in("olivia").get("/inbox/?view=group"))
    assert "Collect documents" in page and "Capture order" not in page
    page = text(signed_in("alice").get("/inbox/?view=group"))
    assert "Capture order" in page and "Collect documents" not in page
    assert "You have no claimed tasks" in text(signed_in("alice").get("/inbox/"))
    admin = text(signed_in("root").get("/inbox/?view=group"))
    assert "Capture order" in admin and "Collect documents" in admin


def test_claim_moves_a_task_to_my_tasks_and_unclaim_back(engine, signed_in, signoff, open_task, text):
    [instance] = start_signoffs(engine, 1)
    task = open_task(instance.id)
    olivia = signed_in("olivia")
    response = olivia.post(f"/tasks/{task.id}/claim")
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task.id}"
    assert engine.task(task.id).claimed_by == "olivia"
    assert "Collect documents" in text(olivia.get("/inbox/"))
    assert "No unclaimed tasks" in text(olivia.get("/inbox/?view=group"))
    response = olivia.post(f"/tasks/{task.id}/unclaim", follow_redirects=True)
    assert "is back in the group tasks" in text(response)
    assert engine.task(task.id).claimed_by is None


def test_claiming_a_task_someone_else_claimed_says_who(engine, signed_in, signoff, open_task, text):
    [instance] = start_signoffs(engine, 1)
    task = open_task(instance.id)
    engine.claim(task.id, "oscar")
    response = signed_in("olivia").post(f"/tasks/{task.id}/claim", follow_redirects=True)
    assert "was claimed by oscar already" in text(response)
    assert engine.task(task.id).claimed_by == "oscar"


def test_claiming_outside_my_lanes_is_refused(engine, signed_in, signoff, open_task, text):
    [instance] = start_signoffs(engine, 1)
    task = open_task(instance.id)
    response = signed_in("cora").post(f"/tasks/{task.id}/claim")
    assert response.status_code == 403
    assert "Onboarding Officer" in text(response)
    assert engine.task(task.id).claimed_by is None


def test_overdue_and_due_soon_stand_out_and_filter(engine, signed_in, signoff, clock, text):
    early = start_signoffs(engine, 1)[0]           # collect is due 4 hours after its start
    clock.advance(hours=3)
    later = start_signoffs(engine, 1)[0]
    clock.advance(hours=2)                           # early: 1 h overdue; later: due in 2 h
    olivia = signed_in("olivia")
    page = olivia.get("/inbox/?view=group").text
    assert page.count('class="is-overdue"') == 1 and page.count('class="is-soon"') == 1
    assert "Overdue" in page and "Due soon" in page
    overdue = text(olivia.get("/inbox/?view=group&due=overdue"))
    assert early.reference in overdue and later.reference not in overdue
    soon = text(olivia.get("/inbox/?view=group&due=soon"))
    assert later.reference in soon and early.reference not in soon


def test_sorted_by_due_date_and_paged(app, engine, signed_in, signoff, clock):
    app.config["PAGE_SIZE"] = 2
    instances = []
    for _ in range(5):
        instances.append(start_signoffs(engine, 1)[0])
        clock.advance(timedelta(minutes=10))
    olivia = signed_in("olivia")
    first, second, third = (olivia.get(f"/inbox/?view=group&page={n}").text for n in (1, 2, 3))
    order = [i.reference for i in instances]
    assert order[0] in first and order[1] in first and order[2] not in first
    assert order[2] in second and order[3] in second
    assert order[4] in third and 'rel="next"' not in third
    assert 'rel="next"' in first and 'rel="prev"' in second


def test_process_filter(engine, signed_in, order, signoff, text):
    engine.start("order", by="bob")
    engine.start("signoff", by="oscar")
    root = signed_in("root")
    page = text(root.get("/inbox/?view=group&process=order"))
    assert "Capture order" in page and "Collect documents" not in page


def test_overview_lists_my_tasks_and_processes(engine, signed_in, signoff, text):
    start_signoffs(engine, 1)
    page = text(signed_in("olivia").get("/"))
    assert "Collect documents" in page and "Client sign-off" in page
