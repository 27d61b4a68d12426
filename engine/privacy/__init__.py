"""Data protection (POPIA): the personal data map, least-privilege redaction, subject access, erasure, retention.

See docs/privacy.md. Every function takes the engine facade; none imports Flask.
"""

from engine.privacy.datamap import (
    COMPLIANCE_ROLE,
    PRIVACY_ROLES,
    RESTRICTED,
    PersonalField,
    ProcessPrivacy,
    access_basis,
    process_privacy,
    redact,
)
from engine.privacy.erasure import ENDED, ERASED_EVENT, erase_instance
from engine.privacy.overview import (
    data_map,
    instance_privacy,
    label_scope,
    log_access,
    redact_for,
    redact_labels,
    task_holds_personal,
)
from engine.privacy.requests import (
    ErasureRequestNotFound,
    ErasureView,
    approve_erasure,
    check_officer,
    erasure_request,
    erasure_requests,
    reject_erasure,
    request_erasure,
)
from engine.privacy.retention import DEFAULT_RETENTION_DAYS, RetentionRun, check_days, due_for_retention, run_retention
from engine.privacy.scrub import TOMBSTONE
from engine.privacy.subjects import PORTAL_ACTORS, SubjectInstance, SubjectRecord, clean_term, find_subject

__all__ = [
    "COMPLIANCE_ROLE", "DEFAULT_RETENTION_DAYS", "ENDED", "ERASED_EVENT", "PORTAL_ACTORS", "PRIVACY_ROLES",
    "RESTRICTED", "TOMBSTONE", "ErasureRequestNotFound", "ErasureView", "PersonalField", "ProcessPrivacy",
    "RetentionRun", "SubjectInstance", "SubjectRecord", "access_basis", "approve_erasure", "check_days",
    "check_officer", "clean_term", "data_map", "due_for_retention", "erase_instance", "erasure_request",
    "erasure_requests", "find_subject", "instance_privacy", "label_scope", "log_access", "process_privacy", "redact",
    "redact_for", "redact_labels", "reject_erasure", "request_erasure", "run_retention", "task_holds_personal",
]
