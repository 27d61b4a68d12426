"""Drafts of task forms: "save draft", and answers posted after the session ended kept for the same user."""

import re

from tests.support import PASSWORD


def olivias_task(engine, signed_in, open_task):
    instance = engine.start("signoff", {"client_name": "Acme"}, by="olivia")
    task = open_task(instance.id)
    olivia = signed_in("olivia")
    olivia.post(f"/tasks/{task.id}/claim")
    return task, olivia


def owner_token(page: str) -> str:
    return re.search(r'name="draft_owner" value="([^"]+)"', page).group(1)


def test_save_draft_keeps_unchecked_answers_until_completion(engine, signed_in, signoff, open_task, text):
    task, olivia = olivias_task(engine, signed_in, open_task)
    response = olivia.post(f"/tasks/{task.id}", data={"action": "draft", "data": '{"vat": "41'},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Draft saved" in page and "{&#34;vat&#34;: &#34;41" in page and "answers of your draft" in page
    assert engine.task(task.id).claimed_by == "olivia" and engine.task_draft("oscar", task.id) is None
    olivia.post(f"/tasks/{task.id}", data={"data": '{"vat": "4123456789"}'})
    assert engine.task_draft("olivia", task.id) is None  # completed: the draft is gone


def test_answers_posted_after_the_session_ended_come_back_after_signing_in(app, engine, signed_in, signoff,
                                                                           open_task, text):
    task, olivia = olivias_task(engine, signed_in, open_task)
    token = owner_token(olivia.get(f"/tasks/{task.id}").get_data(as_text=True))
    expired = app.test_client()  # the same person, whose session is gone
    response = expired.post(f"/tasks/{task.id}", data={"data": '{"vat": "999"}', "draft_owner": token})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login?next=")
    assert engine.task(task.id).claimed_by == "olivia"  # nothing was submitted
    response = expired.post(response.headers["Location"], data={"username": "olivia", "password": PASSWORD},
                            follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == f"/tasks/{task.id}" and "{&#34;vat&#34;: &#34;999&#34;}" in page
    assert "Your session ended before these answers were sent" in page


def test_a_forged_or_foreign_owner_keeps_nothing(app, engine, signed_in, signoff, open_task):
    task, olivia = olivias_task(engine, signed_in, open_task)
    token = owner_token(olivia.get(f"/tasks/{task.id}").get_data(as_text=True))
    anonymous = app.test_client()
    for owner in ("olivia", token[:-2] + "xx", ""):
        response = anonymous.post(f"/tasks/{task.id}", data={"data": "{}", "draft_owner": owner})
        assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
        assert "kept" not in response.headers["Location"]
    other = engine.start("signoff", {"client_name": "Other"}, by="olivia")
    other_task = open_task(other.id)
    anonymous.post(f"/tasks/{other_task.id}", data={"data": "{}", "draft_owner": token})  # token of another task
    assert engine.task_draft("olivia", task.id) is None and engine.task_draft("olivia", other_task.id) is None
