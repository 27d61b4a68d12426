"""Every setting in docs/operations.md ("Settings reference") can be set from the environment, and every variable
the code reads is in that table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webapp import create_app
from webapp.config import from_environment

ROOT = Path(__file__).resolve().parents[2]
NAME = r"(?:CLIENTFLOW_[A-Z0-9_]+|DATABASE_URL|REDIS_URL|SMTP_URL|MAIL_FROM|SECRET_KEY)"

# A value for each variable, different from its default.
SAMPLES = {
    "DATABASE_URL": "postgresql://app@db.example.com/clientflow",
    "REDIS_URL": "redis://redis.example.com:6379/2",
    "SMTP_URL": "smtp://mail.example.com:2525",
    "MAIL_FROM": "Care <care@example.com>",
    "SECRET_KEY": "a-secret-from-the-environment",
    "CLIENTFLOW_PUBLIC_URL": "https://care.example.com",
    "CLIENTFLOW_FORMS_DIR": "/srv/forms",
    "CLIENTFLOW_PROCESSES_DIR": "/srv/processes",
    "CLIENTFLOW_SWEEP_INTERVAL": "3",
    "CLIENTFLOW_JOB_LEASE_SECONDS": "20",
    "CLIENTFLOW_MAIL_RETRY_INTERVALS": "5,50",
    "CLIENTFLOW_SCRIPT_TIME_LIMIT": "0.5",
    "CLIENTFLOW_SCRIPT_WALL_SECONDS": "4",
    "CLIENTFLOW_SCRIPT_MEMORY_MB": "128",
    "CLIENTFLOW_SANDBOX_PROCESSES": "4",
    "CLIENTFLOW_MAX_STATE_BYTES": "2000000",
    "CLIENTFLOW_MAX_VARIABLE_BYTES": "1000",
    "CLIENTFLOW_SECURE_COOKIES": "1",
    "CLIENTFLOW_SESSION_IDLE_MINUTES": "10",
    "CLIENTFLOW_SESSION_LIFETIME_HOURS": "8",
    "CLIENTFLOW_LOGIN_LIMIT_ACCOUNT": "3 per minute",
    "CLIENTFLOW_LOGIN_LIMIT_ADDRESS": "9 per minute",
    "CLIENTFLOW_RATELIMIT_STORAGE_URI": "redis://limits.example.com:6379/3",
    "CLIENTFLOW_TOTP_REQUIRED_ROLES": "Admin,Compliance Officer",
    "CLIENTFLOW_API_TOKEN_DAYS": "30",
    "CLIENTFLOW_MAX_CONTENT_LENGTH": "1000000",
    "CLIENTFLOW_LANE_SUPERVISORS": '{"Agent": ["Team Lead"]}',
    "CLIENTFLOW_DISPLAY_TIMEZONE": "Europe/London",
    "CLIENTFLOW_UPLOAD_MAX_MB": "2",
    "CLIENTFLOW_UPLOAD_TYPES": "application/pdf,image/png",
    "CLIENTFLOW_UPLOAD_SCAN": "clamdscan --no-summary",
    "CLIENTFLOW_RETENTION_DAYS": "400",
    "CLIENTFLOW_RESPONSIBLE_PARTY": "Thaba Mining Ltd, 1 Main Road, Middelburg; privacy@thaba.example",
    "CLIENTFLOW_PORTAL_INTAKES": '{"complaint": {"key": "complaint_handling", "title": "Complaint"}}',
    "CLIENTFLOW_PORTAL_RATE_LIMITS": '{"submit": [3, 60]}',
    "CLIENTFLOW_PORTAL_LINK_LIFETIMES": '{"survey": 86400}',
    "CLIENTFLOW_PORTAL_SURVEY_PROCESS": "satisfaction",
    "CLIENTFLOW_REPORT_MILESTONES": '{"complaint_handling": {"acknowledged": ["ack_task"]}}',
    "CLIENTFLOW_CHECK_STATE": "1",
    "CLIENTFLOW_CAMUNDA_HANDLERS": "org.example.Notify=tests.camunda.sample_handlers:notify",
}
SPECIAL = {"CLIENTFLOW_INSTANCE_PATH"}  # read by create_app itself (below)


def documented() -> list[str]:
    text = (ROOT / "docs" / "operations.md").read_text()
    table = text.split("## Settings reference", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"^\| `({NAME})` \|", table, flags=re.M)


def read_by_code() -> set[str]:
    source = (ROOT / "webapp" / "config.py").read_text() + (ROOT / "webapp" / "__init__.py").read_text()
    return set(re.findall(rf'"({NAME})"', source))


@pytest.fixture
def clean_env(monkeypatch):
    for name in [*SAMPLES, *SPECIAL]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_variable_the_code_reads_is_documented():
    missing = read_by_code() - set(documented())
    assert not missing, f"add these to docs/operations.md, 'Settings reference': {sorted(missing)}"


def test_every_documented_variable_has_a_sample_here():
    assert set(documented()) - SPECIAL <= set(SAMPLES), "add a sample value for each new variable to SAMPLES"


@pytest.mark.parametrize("variable", sorted(set(documented()) - SPECIAL))
def test_each_documented_variable_is_taken_from_the_environment(variable, clean_env, tmp_path):
    baseline = from_environment(tmp_path)
    clean_env.setenv(variable, SAMPLES[variable])
    changed = from_environment(tmp_path)
    differing = sorted(key for key in changed if changed[key] != baseline.get(key))
    assert differing, f"{variable}={SAMPLES[variable]!r} changed no setting"


def test_the_instance_folder_comes_from_the_environment(clean_env, tmp_path):
    clean_env.setenv("CLIENTFLOW_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}", "TESTING": True})
    assert app.instance_path == str(tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "secret_key").exists()


def test_an_instance_config_file_overrides_the_environment(clean_env, tmp_path):
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.py").write_text('PORTAL_SURVEY_PROCESS = "from_the_instance_file"\n')
    clean_env.setenv("CLIENTFLOW_PORTAL_SURVEY_PROCESS", "from_the_environment")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}", "INSTANCE_PATH": str(folder),
                      "TESTING": True})
    assert app.config["PORTAL_SURVEY_PROCESS"] == "from_the_instance_file"


@pytest.mark.parametrize("variable", ["CLIENTFLOW_PORTAL_INTAKES", "CLIENTFLOW_LANE_SUPERVISORS"])
def test_a_json_setting_that_is_not_json_names_the_variable(variable, clean_env, tmp_path):
    clean_env.setenv(variable, "{not json")
    with pytest.raises(ValueError, match=variable):
        from_environment(tmp_path)


@pytest.mark.parametrize(("settings", "message"), [
    ({"UPLOAD_TYPES": ["application/zip"]}, "unknown upload type"),
    ({"UPLOAD_SCAN": "no_such_module:scan"}, "cannot be imported"),
    ({"UPLOAD_MAX_MB": 0}, "at least 1 byte"),
])
def test_bad_upload_settings_stop_the_app_with_a_message(settings, message, clean_env, tmp_path):
    with pytest.raises(ValueError, match=message):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}", "TESTING": True,
                    "INSTANCE_PATH": str(tmp_path / "instance"), **settings})
