"""Signed one-time links: the satisfaction survey and a reply into a waiting case; every refusal changes nothing."""

import threading
from concurrent.futures import ThreadPoolExecutor

from itsdangerous import URLSafeSerializer

from engine.core.db.models import LinkUse
from tests.portal.support import COMPLAINT, PUBLIC_URL, address, link_path
from webapp import signing


def feedback(engine):
    return engine.list_instances(key="feedback")


def test_survey_shows_the_questions_but_nothing_of_the_case(app, client, closed_complaint):
    response = client.get(link_path(app, signing.survey_link, closed_complaint.id))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="rating"' in page and 'name="comments"' in page and 'name="may_contact"' in page
    for hidden in ('name="about_reference"', 'name="client_email"', 'name="client_name"', COMPLAINT["client_email"]):
        assert hidden not in page
    assert closed_complaint.reference in page


def test_survey_answer_starts_feedback_about_the_case(app, client, engine, closed_complaint, text):
    path = link_path(app, signing.survey_link, closed_complaint.id)
    response = client.post(path, data={"rating": "4", "comments": "Quick and friendly.", "may_contact": "y"})
    assert response.status_code == 200 and "We have received your answer to our survey." in text(response)
    [answer] = feedback(engine)
    assert answer.started_by == "portal"
    data = engine.instance_detail(answer.id).data
    assert (data["about_reference"], data["rating"], data["comments"]) == (closed_complaint.reference, 4,
                                                                           "Quick and friendly.")
    assert data["client_email"] == COMPLAINT["client_email"] and data["may_contact"] is True


def test_used_survey_link_is_refused_and_so_is_any_other_for_the_same_case(app, client, engine, closed_complaint,
                                                                             text):
    first = link_path(app, signing.survey_link, closed_complaint.id)
    second = link_path(app, signing.survey_link, closed_complaint.id)  # e.g. the invitation was sent twice
    assert client.post(first, data={"rating": "5"}).status_code == 200
    for path in (first, second):
        for response in (client.get(path), client.post(path, data={"rating": "1"})):
            assert response.status_code == 410
            assert "This link has been used already" in text(response)
    assert len(feedback(engine)) == 1


def test_expired_survey_link_is_refused_and_changes_nothing(app, client, engine, clock, closed_complaint, text):
    path = link_path(app, signing.survey_link, closed_complaint.id)
    clock.advance(days=30)
    response = client.post(path, data={"rating": "5"})
    assert response.status_code == 410 and "This link has expired" in text(response)
    assert client.get(path).status_code == 410
    assert feedback(engine) == []
    with engine.read_session() as session:
        assert session.query(LinkUse).count() == 0


def test_invalid_survey_answer_changes_nothing_and_the_link_still_works(app, client, engine, closed_complaint, text):
    path = link_path(app, signing.survey_link, closed_complaint.id)
    response = client.post(path, data={"rating": "9", "comments": "x" * 2001})
    assert response.status_code == 422
    assert "Not a valid choice." in text(response) and "Field cannot be longer than 2000 characters." in text(response)
    assert feedback(engine) == []
    assert client.post(path, data={"rating": "2"}).status_code == 200


def test_changed_or_foreign_tokens_are_refused(app, client, engine, closed_complaint, waiting_inquiry, text):
    path = link_path(app, signing.survey_link, closed_complaint.id)
    token = path.rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with app.app_context():
        reply_token = signing.make_token(signing.REPLY, waiting_inquiry.id, "feedback")
    forged = URLSafeSerializer("another secret", salt="clientflow.portal.survey").dumps(
        {"i": closed_complaint.id, "t": "feedback", "n": "x", "e": 4102444800})
    for bad in (tampered, reply_token, forged, "nonsense"):
        response = client.post(f"/portal/survey/{bad}", data={"rating": "5"})
        assert response.status_code == 404 and "This link does not work" in text(response)
    assert feedback(engine) == []


def test_reply_is_delivered_to_the_waiting_case(app, client, engine, waiting_inquiry, text):
    path = link_path(app, signing.reply_link, waiting_inquiry.id, "more_info")
    assert "Send us your answer" in text(client.get(path))
    response = client.post(path, data={"message": "My meter number is 0412-556."})
    assert response.status_code == 200 and "added it to your case" in text(response)
    engine.live.clear()
    detail = engine.instance_detail(waiting_inquiry.id)
    assert [t.element_id for t in detail.tasks] == ["answer"]
    assert detail.data["client_reply"]["message"] == "My meter number is 0412-556."
    received = [e for e in detail.events if e.kind == "message_received"]
    assert [e.actor for e in received] == ["portal"]


def test_used_or_answered_reply_link_is_refused(app, client, engine, waiting_inquiry, text):
    path = link_path(app, signing.reply_link, waiting_inquiry.id, "more_info")
    later = link_path(app, signing.reply_link, waiting_inquiry.id, "more_info")
    assert client.post(path, data={"message": "Meter 0412-556."}).status_code == 200
    version = engine.instance(waiting_inquiry.id).lock_version
    used = client.post(path, data={"message": "Again."})
    assert used.status_code == 410 and "This link has been used already" in text(used)
    answered = client.post(later, data={"message": "And again."})
    assert answered.status_code == 410 and "Nothing is waiting for an answer" in text(answered)
    assert engine.instance(waiting_inquiry.id).lock_version == version


def test_empty_reply_is_refused_and_the_case_keeps_waiting(app, client, engine, waiting_inquiry, text):
    path = link_path(app, signing.reply_link, waiting_inquiry.id, "more_info")
    version = engine.instance(waiting_inquiry.id).lock_version
    response = client.post(path, data={"message": "   "})
    assert response.status_code == 422 and "Write your answer." in text(response)
    assert engine.instance(waiting_inquiry.id).lock_version == version
    assert client.post(path, data={"message": "Meter 0412-556."}).status_code == 200


def test_expired_reply_link_is_refused(app, client, engine, clock, waiting_inquiry, text):
    path = link_path(app, signing.reply_link, waiting_inquiry.id, "more_info")
    clock.advance(days=14, seconds=1)
    response = client.post(path, data={"message": "Meter 0412-556."})
    assert response.status_code == 410 and "This link has expired" in text(response)
    assert [t.element_id for t in engine.tasks(instance_id=waiting_inquiry.id)] == []


def test_link_pages_are_rate_limited_per_address(app, client, closed_complaint, text):
    app.config["PORTAL_RATE_LIMITS"] = {"link": (3, 600)}
    path = link_path(app, signing.survey_link, closed_complaint.id)
    for _ in range(3):
        assert client.get(path).status_code == 200
    response = client.post(path, data={"rating": "5"})
    assert response.status_code == 429 and "Please wait a moment" in text(response)
    assert client.get(path, **address(9)).status_code == 200


def test_mail_links_for_notifications(app, engine, closed_complaint, waiting_inquiry):
    with app.app_context():
        survey = signing.mail_links("survey_invitation", closed_complaint.id,
                                    {"reference": closed_complaint.reference, "survey": "feedback"})
        update = signing.mail_links("status_update", waiting_inquiry.id,
                                    {"reference": waiting_inquiry.reference, "reply_message": "more_info"})
        plain = signing.mail_links("complaint_acknowledgement", closed_complaint.id, {"reference": "CMP-2026-000001"})
        app.config["PUBLIC_URL"] = None
        offline = signing.mail_links("survey_invitation", closed_complaint.id, {"reference": "X"})
    assert survey["status_url"] == f"{PUBLIC_URL}/portal/track?reference={closed_complaint.reference}"
    assert survey["survey_url"].startswith(f"{PUBLIC_URL}/portal/survey/")
    assert update["reply_url"].startswith(f"{PUBLIC_URL}/portal/reply/") and "survey_url" not in update
    assert set(plain) == {"status_url"}
    assert offline == {}


def test_two_answers_racing_on_one_survey_link_make_one_feedback(app, engine, closed_complaint):
    path = link_path(app, signing.survey_link, closed_complaint.id)
    start = threading.Barrier(4)

    def answer(rating: int) -> int:
        client = app.test_client()
        start.wait()
        return client.post(path, data={"rating": str(rating)}, **address(rating)).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(answer, range(1, 5)))
    assert statuses == [200, 410, 410, 410]
    assert len(feedback(engine)) == 1
