"""The client record: one record per client (organisation or person) that every case of theirs links to.

See docs/privacy.md (client record) and docs/modelling.md (`clientRecord` process property).
"""

from engine.clients.cases import BINDING_PROPERTY, CaseOfClient, binding
from engine.clients.consent import SUPPRESSED, ConsentGate, kind_of
from engine.clients.models import Client, ClientCase
from engine.clients.records import (
    CHANNELS,
    KINDS,
    KYC_INTERVALS,
    KYC_LABELS,
    LABELS,
    PERSONAL_FIELDS,
    AgreedSla,
    ClientView,
)
from engine.clients.service import ClientService

__all__ = [
    "BINDING_PROPERTY", "CHANNELS", "KINDS", "KYC_INTERVALS", "KYC_LABELS", "LABELS", "PERSONAL_FIELDS", "SUPPRESSED",
    "AgreedSla", "CaseOfClient",
    "Client", "ClientCase", "ClientService", "ClientView", "ConsentGate", "binding", "kind_of",
]
