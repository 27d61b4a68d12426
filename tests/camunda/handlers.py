"""A Python handler for the Camunda service-task tests, loadable by a worker process through
CLIENTFLOW_CAMUNDA_HANDLERS: it fails its first `fail_times` calls, counting calls in the file `attempts_file`
(failed attempts are rolled back, so the count cannot live in the instance's variables)."""

from pathlib import Path


def charge_card(variables: dict) -> dict:
    attempts = Path(variables["attempts_file"])
    with attempts.open("a") as handle:
        handle.write("attempt\n")
    made = len(attempts.read_text().splitlines())
    if made <= variables.get("fail_times", 0):
        raise RuntimeError(f"card gateway unreachable (attempt {made})")
    return {"charged": variables["amount"], "attempts": made}
