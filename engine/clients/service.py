"""The client-record use cases, on the kernel's `Services` (the facade holds one as `Engine.clients`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from engine.clients import cases, records
from engine.clients.models import Client, ClientCase
from engine.core import audit, definitions
from engine.core.db.models import ProcessInstance

if TYPE_CHECKING:
    from engine.core.services import Services
    from engine.results import InstanceDetail, InstanceView


class ClientService:
    """Create, correct, find and erase client records; link cases to them."""

    def __init__(self, services: Services):
        self.services = services
        self._bindings: dict[int, str | None] = {}

    # -- records ----------------------------------------------------------------------------------------------
    def search(self, text: str | None = None, limit: int = 100, offset: int = 0) -> list[records.ClientView]:
        with self.services.read_session() as session:
            return records.search(session, text, limit, offset)

    def get(self, client_id: int) -> records.ClientView:
        with self.services.read_session() as session:
            return records.view(records.get_row(session, client_id))

    def create(self, values: dict[str, Any], by: str | None) -> records.ClientView:
        now = self.services.clock.now()
        with self.services.write_session.begin() as session:
            client = records.create(session, values, by=by, now=now)
            audit.record(session, "client_created", at=now, actor=by, client_id=client.id)
            return client

    def correct(self, client_id: int, changes: dict[str, Any], by: str | None) -> records.ClientView:
        """Correct the record once; every case of the client notes it, and their mails use the new details."""
        now = self.services.clock.now()
        with self.services.write_session.begin() as session:
            client, changed = records.correct(session, client_id, changes, by=by, now=now)
            cases.record_corrections(session, client_id, changed, by=by, now=now)
            return client

    def agreed_sla(self, client_id: int) -> records.AgreedSla:
        """The SLA agreed with the client (for the SLA engine)."""
        with self.services.read_session() as session:
            return records.agreed_sla(session, client_id)

    def sla_of_case(self, instance_id: int) -> records.AgreedSla | None:
        """The SLA agreed with the client of a case, or None when the case has no client."""
        with self.services.read_session() as session:
            client_id = cases.client_of(session, instance_id)
            return records.agreed_sla(session, client_id) if client_id is not None else None

    # -- cases ------------------------------------------------------------------------------------------------
    def cases(self, client_id: int) -> list[cases.CaseOfClient]:
        with self.services.read_session() as session:
            records.get_row(session, client_id)
            return cases.cases_of(session, client_id)

    def of_case(self, instance_id: int) -> records.ClientView | None:
        with self.services.read_session() as session:
            client_id = cases.client_of(session, instance_id)
            return records.view(records.get_row(session, client_id)) if client_id is not None else None

    def link(self, instance_id: int, client_id: int, by: str, case_email: str | None = None) -> None:
        with self.services.write_session.begin() as session:
            cases.link_by_staff(session, instance_id, client_id, case_email, by=by, now=self.services.clock.now())

    def binding_of(self, instance_id: int) -> str | None:
        with self.services.quick_read() as conn:  # one statement, no transaction: one round trip
            definition_id = conn.scalar(select(ProcessInstance.definition_id).where(ProcessInstance.id == instance_id))
        return None if definition_id is None else self._binding(definition_id)

    def _binding(self, definition_id: int) -> str | None:
        """The `clientRecord` binding of a stored version, from its cached model (read only when missing)."""
        if definition_id not in self._bindings:
            with self.services.quick_read() as conn:
                model = definitions.model_for(self.services, conn, definition_id)
            self._bindings[definition_id] = cases.binding(model)
        return self._bindings[definition_id]

    def after_start(self, started: InstanceView, data: dict[str, Any]) -> int | None:
        """Link a new case to its client (onboarding creates the record); the client id or None.

        The binding comes from the started version's model, which the start has just cached: no round trip."""
        bound = self._binding(started.definition_id)
        if bound is None:
            return None
        with self.services.write_session.begin() as session:
            return cases.link_new_case(session, started.id, bound, data, by=started.started_by,
                                       now=self.services.clock.now())

    def after_complete(self, instance_id: int, submitted: dict[str, Any], detail: InstanceDetail | None,
                       by: str | None) -> None:
        """An onboarding task recorded client details: write them to the record (a `create` process only)."""
        if detail is None:
            return
        keys = set(submitted)
        values = cases.record_values(detail.data, keys)
        if "client_account_number" in keys and detail.data.get("client_account_number"):
            values["status"] = "active"
        with self.services.read_session() as session:
            client_id = cases.client_of(session, instance_id)
        if client_id is None:
            return
        if values:
            self.correct(client_id, values, by)
        kyc = cases.kyc_values(detail.data, keys, self.services.clock.now().date())
        if kyc:
            now = self.services.clock.now()
            with self.services.write_session.begin() as session:
                changed = records.record_kyc(session, client_id, kyc, by=by, now=now)
                cases.record_corrections(session, client_id, changed, by=by, now=now)

    def wants_detail(self, instance_id: int, submitted: dict[str, Any]) -> bool:
        """Whether a completion may carry client details to the record (saves reading the case otherwise)."""
        if not (set(submitted) & (set(cases.FROM_CASE) | set(cases.KYC_TRIGGERS))):
            return False
        return self.binding_of(instance_id) == "create"

    # -- erasure ----------------------------------------------------------------------------------------------
    def erase_record(self, client_id: int, by: str, basis: str) -> None:
        """Replace the record's personal fields by tombstones; links and non-personal facts stay for reports."""
        now = self.services.clock.now()
        with self.services.write_session.begin() as session:
            row = records.get_row(session, client_id, for_update=True)
            row.name = records.ERASED
            row.registration_number = row.contact_name = row.email = row.phone = None
            row.status, row.updated_at, row.updated_by = "erased", now, by
            session.execute(ClientCase.__table__.update().where(ClientCase.client_id == client_id)
                            .values(case_email=None))
            audit.record(session, "client_erased", at=now, actor=by, client_id=client_id, basis=basis)

    def case_ids(self, client_id: int) -> list[int]:
        with self.services.read_session() as session:
            records.get_row(session, client_id)
            return list(session.scalars(select(ClientCase.instance_id).where(ClientCase.client_id == client_id)))

    def matching(self, terms: set[str]) -> list[records.ClientView]:
        """Records holding any of these values in a personal field (for subject access requests)."""
        wanted = {t.strip().lower() for t in terms if t and t.strip()}
        if not wanted:
            return []
        with self.services.read_session() as session:
            columns = [getattr(Client, f) for f in records.PERSONAL_FIELDS]
            rows = session.scalars(select(Client).where(
                Client.status != "erased", or_(*(func.lower(c).in_(sorted(wanted)) for c in columns)))
                .order_by(Client.id))
            return [records.view(r) for r in rows]
