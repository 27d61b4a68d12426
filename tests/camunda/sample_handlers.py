"""Handlers the CAMUNDA_HANDLERS tests name by module path (tests/camunda/test_handler_setting.py)."""


def notify(variables):
    return {"notified": f"to {variables['customer']}"}


def score(variables):
    return {"score": len(variables["customer"]) * 100}


CAMUNDA_HANDLERS = {"org.example.Score": score, "scoreBean": score}
