"""`serve` refuses unsafe settings; request bodies are bounded on the stream; another lane's unclaim is 403."""

from __future__ import annotations

import io

import pytest

from webapp.cli.serving import unsafe_settings

SAFE = {"SECRET_KEY": "s" * 64, "DATABASE_URL": "postgresql://db/clientflow", "CLIENTFLOW_SECURE_COOKIES": "1",
        "CLIENTFLOW_PUBLIC_URL": "https://clientflow.example"}


@pytest.mark.parametrize(("bind", "unset", "extra", "says"), [
    ("127.0.0.1:8000", "SECRET_KEY", {}, "SECRET_KEY is not set"),
    ("0.0.0.0:8000", "DATABASE_URL", {}, "DATABASE_URL is not set"),
    ("0.0.0.0:8000", "CLIENTFLOW_SECURE_COOKIES", {}, "CLIENTFLOW_SECURE_COOKIES=1"),
    ("127.0.0.1:8000", "CLIENTFLOW_SECURE_COOKIES", {}, "CLIENTFLOW_PUBLIC_URL is https"),
])
def test_each_unsafe_setting_is_named_with_its_fix(bind, unset, extra, says):
    env = {k: v for k, v in {**SAFE, **extra}.items() if k != unset}
    assert any(says in problem for problem in unsafe_settings(bind, env))


def test_safe_settings_and_local_sqlite_pass():
    assert unsafe_settings("0.0.0.0:8000", SAFE) == []
    assert unsafe_settings("127.0.0.1:8000", {"SECRET_KEY": "s" * 64}) == []


def test_serve_exits_non_zero_with_the_reasons(cli):
    result = cli("serve", "--bind", "0.0.0.0:8000", env={"SECRET_KEY": "", "DATABASE_URL": "",
                                                        "CLIENTFLOW_SECURE_COOKIES": "", "CLIENTFLOW_PUBLIC_URL": ""})
    assert result.exit_code == 2
    assert "refusing to start" in result.output and "SECRET_KEY" in result.output
    assert "DATABASE_URL" in result.output and "--insecure-dev" in result.output


def test_a_body_without_content_length_is_cut_off_at_the_limit(app, staff, signed_in):
    assert app.config["MAX_CONTENT_LENGTH"] == 26 * 1024 * 1024  # the default: the studio's largest JSON + 1 MB
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    owner = signed_in("root")
    body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bpmn\"\r\n\r\n" + b"x" * 200_000 + \
        b"\r\n--b--\r\n"
    response = owner.post("/studio/import", input_stream=io.BytesIO(body),
                          content_type="multipart/form-data; boundary=b",
                          environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413
    draft = io.BytesIO(b'{"files": "' + b"x" * 200_000 + b'"}')
    json_body = owner.post("/studio/processes/x/draft", input_stream=draft, content_type="application/json",
                           environ_overrides={"wsgi.input_terminated": True})
    assert json_body.status_code == 413


def test_unclaiming_another_lanes_task_is_403_not_409(engine, order, staff, token_for, client, open_task):
    instance = engine.start("order", {"customer_name": "ACME"}, by="alice")
    task = open_task(instance.id)  # in the Agent lane, claimed by nobody
    response = client.post(f"/api/v1/tasks/{task.id}/unclaim", headers=token_for("carol"))
    assert response.status_code == 403
    assert client.post(f"/api/v1/tasks/{task.id}/unclaim", headers=token_for("alice")).status_code == 409
