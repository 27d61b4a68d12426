"""POPIA s13 purpose and the client-record tie of every shipped process, read the way the privacy tools read them."""

from engine.clients import binding
from engine.privacy.datamap import NO_PURPOSE, process_privacy

BINDINGS = {"client_onboarding": "create", "complaint_handling": "link", "inquiry": "link", "feedback": "link",
            "suggestion": "link", "kyc_review": "create"}


def test_every_shipped_process_states_its_purpose(engine, shipped):
    assert sorted(shipped) == sorted(BINDINGS)
    with engine.read_session() as session:
        for key, deployed in shipped.items():
            model = engine.model(session.connection(), _definition_id(engine, key, deployed.version))
            purpose = process_privacy(model, key, deployed.version).purpose
            assert purpose != NO_PURPOSE and "Used for no other purpose" in purpose, key
            assert binding(model) == BINDINGS[key], key


def _definition_id(engine, key: str, version: int) -> int:
    return next(p.definition_id for p in engine.processes(all_versions=True) if (p.key, p.version) == (key, version))
