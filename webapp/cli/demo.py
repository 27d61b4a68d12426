"""Demo data for `clientflow run --demo`: the shipped processes, one user per staff lane, a few instances.

The `Client` lane gets no user: clients are not staff and act through the portal (docs/decisions.md).

Extend `DEMO_INSTANCES` with instances worth showing (start data, then tasks to complete), so the demo has
instances in every state. A process without entries gets one instance started with no data.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from engine import ManualClock
from engine.core.bundle import parse_xml
from engine.core.users import ADMIN_ROLE, CLIENT_ROLES, save_user
from engine.errors import ClientflowError

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ADMIN_USER = "admin"


@dataclass(frozen=True)
class DemoStep:
    """Complete the open task `element_id` with `data`, as the demo user of `role` (default: the admin)."""

    element_id: str
    data: dict[str, Any] = field(default_factory=dict)
    role: str | None = None


@dataclass(frozen=True)
class DemoInstance:
    """One demo instance: start `key` with `data`, then take these steps in order."""

    key: str
    data: dict[str, Any] = field(default_factory=dict)
    steps: tuple[DemoStep, ...] = ()
    # Start it this many hours in the past, so its timers are already overdue (an SLA breach to look at).
    hours_ago: int = 0


DEMO_INSTANCES: list[DemoInstance] = [
    DemoInstance("client_onboarding", {"company_name": "Acme Freight Ltd", "contact_name": "Thandi Mokoena",
                                       "client_email": "thandi@acme-freight.example",
                                       "contact_phone": "+27 11 555 0101"}),
    DemoInstance("client_onboarding", {"company_name": "Blue Crane Bakery", "contact_name": "Pieter de Wet",
                                       "client_email": "pieter@bluecrane.example"}),
    DemoInstance("complaint_handling", {"client_name": "Ana Lima", "client_email": "ana.lima@example.com",
                                        "channel": "email", "category": "billing",
                                        "description": "I was charged twice for my March invoice."}),
    DemoInstance("complaint_handling", {"client_name": "Sipho Ndlovu", "client_email": "sipho@example.com",
                                        "channel": "hotline", "category": "delivery",
                                        "description": "My order arrived a week late and damaged."}),
    DemoInstance("complaint_handling", {"client_name": "Grace Khumalo", "client_email": "grace@example.com",
                                        "channel": "walk_in", "category": "service",
                                        "description": "Nobody called me back about my account query."},
                 hours_ago=30),
    DemoInstance("feedback", {"rating": 4, "comments": "Quick and friendly help at the branch.",
                              "client_name": "Lerato M.", "client_email": "lerato@example.com", "may_contact": True}),
    DemoInstance("inquiry", {"client_name": "Nomsa Zulu", "client_email": "nomsa@example.com",
                             "channel": "website", "category": "billing",
                             "question": "Can I receive my invoices by e-mail from next month?"}),
    # Normally started by onboarding's activation (a hand-off); one opened by hand shows the refresh form.
    DemoInstance("kyc_review", {"company_name": "Acme Freight Ltd", "contact_name": "Thandi Mokoena",
                                "client_email": "thandi@acme-freight.example", "risk_rating": "low",
                                "kyc_review_interval": "P1Y"}),
    DemoInstance("suggestion", {"channel": "website", "topic": "facilities",
                                "suggestion": "Please add a bicycle rack at the main entrance.",
                                "submitter_name": "Jo", "submitter_email": "jo@example.com"}),
]


@dataclass
class DemoSummary:
    deployed: list[str] = field(default_factory=list)
    users: dict[str, tuple[list[str], str]] = field(default_factory=dict)  # name -> (roles, password)
    instances: list[str] = field(default_factory=list)  # one line per instance
    problems: list[str] = field(default_factory=list)


def username_for(role: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", role.lower()).strip("_") or "user"


def lane_roles(files: dict[str, str]) -> set[str]:
    """The lane names of a deployed bundle's BPMN files (a lane is a role)."""
    roles = set()
    for name, text in files.items():
        if name.endswith(".bpmn"):
            for lane in parse_xml(text, name).iter(f"{{{BPMN_NS}}}lane"):
                if (lane.get("name") or "").strip():
                    roles.add(lane.get("name").strip())
    return roles


def seed_demo(engine, processes_dir: str | Path) -> DemoSummary:
    """Deploy the folder's processes (if any), create the demo users, start the demo instances; never raises."""
    summary = DemoSummary()
    folder = Path(processes_dir)
    if folder.is_dir() and any(folder.glob("*.bpmn")):
        try:
            summary.deployed = [r.key for r in engine.deploy_each(folder, by=ADMIN_USER)]
        except ClientflowError as err:
            summary.problems.append(f"deploying {folder}: {err}")
    roles = set()
    for process in engine.processes():
        roles |= lane_roles(engine.definition_files(process.key))
    _create_users(engine, roles, summary)
    keys = [p.key for p in engine.processes()]
    wanted = [d for d in DEMO_INSTANCES if d.key in keys]
    wanted += [DemoInstance(key) for key in keys if key not in {d.key for d in DEMO_INSTANCES}]
    for demo in wanted:
        _start(engine, demo, summary)
    return summary


def _create_users(engine, roles: set[str], summary: DemoSummary) -> None:
    people = {ADMIN_USER: [ADMIN_ROLE]}
    for role in sorted(roles - CLIENT_ROLES):
        people.setdefault(username_for(role), []).append(role)
    with engine.write_session.begin() as session:
        for name, user_roles in people.items():
            password = secrets.token_urlsafe(12)  # 16 characters: the staff password rules want 12 or more
            save_user(session, name, user_roles, password=password, display_name=name.replace("_", " ").title(),
                      email=f"{name}@example.com")
            summary.users[name] = (user_roles, password)


def _start(engine, demo: DemoInstance, summary: DemoSummary) -> None:
    real_clock = engine.clock
    if demo.hours_ago:
        # Seeding runs before the web server and workers start, so swapping the clock affects nothing else.
        engine.clock = ManualClock(real_clock.now() - timedelta(hours=demo.hours_ago))
    try:
        instance = engine.start(demo.key, dict(demo.data), by=ADMIN_USER)
    except ClientflowError as err:
        summary.problems.append(f"demo instance of {demo.key}: {err}")
        return
    finally:
        engine.clock = real_clock
    for step in demo.steps:
        task = next((t for t in engine.tasks(instance_id=instance.id) if t.element_id == step.element_id), None)
        try:
            if task is None:
                raise ClientflowError(f"no open task {step.element_id!r}")
            user = username_for(step.role) if step.role else ADMIN_USER
            instance = engine.complete(task.id, dict(step.data), by=user)
        except ClientflowError as err:
            summary.problems.append(f"demo instance {instance.id} of {demo.key}, step {step.element_id}: {err}")
            break
    summary.instances.append(f"{instance.key} #{instance.id} {instance.reference or ''} {instance.status}")
