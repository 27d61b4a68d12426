"""Domain errors of the engine; the web layer and the CLI choose how to show them."""

from __future__ import annotations


class ClientflowError(Exception):
    """Base of every error the engine raises on purpose."""


class NotFound(ClientflowError):
    """Something asked for by id or key does not exist."""


class ProcessNotFound(NotFound):
    """No process definition with that key (or version)."""


class InstanceNotFound(NotFound):
    """No process instance with that id or reference."""


class TaskNotFound(NotFound):
    """No human task with that id."""


class UserNotFound(NotFound):
    """No user with that name."""


class NotificationNotFound(NotFound):
    """No notification (mail) with that id on that case."""


class SavedViewNotFound(NotFound):
    """No saved inbox view with that id for that user."""


class InvalidModel(ClientflowError):
    """A BPMN/DMN/form file cannot be deployed; names the file, element and line when known."""

    def __init__(self, message: str, *, file: str | None = None, element_id: str | None = None,
                 line: int | None = None, problems: list[dict] | None = None):
        self.file = file
        self.element_id = element_id
        self.line = line
        self.problems = problems or [{"file": file, "element_id": element_id, "line": line, "message": message}]
        where = ", ".join(
            part for part in (
                file,
                f"element {element_id}" if element_id else None,
                f"line {line}" if line else None,
            ) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.message = message


class InvalidInput(ClientflowError):
    """Input given by a caller (JSON data, a name, an option) is malformed."""


class InvalidTaskData(ClientflowError):
    """Task data failed form validation; `errors` maps field name to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        summary = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in sorted(errors.items()))
        super().__init__(f"invalid task data: {summary}")


class ConcurrentUpdate(ClientflowError):
    """The instance changed since it was read; nothing was saved, try again."""


class TaskNotReady(ClientflowError):
    """The task exists but cannot be worked on now."""


class TaskAlreadyCompleted(TaskNotReady):
    """The task was completed already (by someone else, or by a double submit)."""


class NotAllowed(ClientflowError):
    """The user may not do this (missing role, task claimed by someone else, separation of duties)."""


class SeparationRefused(NotAllowed):
    """A sign-off refused to a user (separation of duties, or not in the sign-off's lane); audited as refused."""

    def __init__(self, message: str, instance_id: int, element_id: str, username: str):
        super().__init__(message)
        self.instance_id, self.element_id, self.username = instance_id, element_id, username


class InstanceNotRunning(ClientflowError):
    """The instance is completed, cancelled or in error and cannot take this action."""


class ScriptError(ClientflowError):
    """A script or condition broke a sandbox rule, raised, or ran too long."""

    def __init__(self, message: str, *, element_id: str | None = None, line: int | None = None):
        self.element_id = element_id
        self.line = line
        self.message = message
        where = ", ".join(p for p in (f"element {element_id}" if element_id else None,
                                      f"line {line}" if line else None) if p)
        super().__init__(f"{where}: {message}" if where else message)


class MessageNotCorrelated(ClientflowError):
    """No running instance waits for that message with that correlation key."""


class MigrationRefused(ClientflowError):
    """An instance cannot safely move to another version of its process; `reasons` says why."""

    def __init__(self, message: str, reasons: list[str] | None = None):
        self.reasons = reasons or [message]
        super().__init__(message)


class ClientNotFound(NotFound):
    """No client record with that id."""


class InvalidClientData(InvalidTaskData):
    """A client record change failed validation; `errors` maps field name to messages, and nothing was saved."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        summary = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in sorted(errors.items()))
        self.args = (f"invalid client data: {summary}",)
