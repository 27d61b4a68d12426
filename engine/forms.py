"""Task forms: checking form files at deploy time and cleaning submitted task data."""

from __future__ import annotations

from typing import Any

from .bundle import BuiltModel
from .errors import InvalidModel, InvalidTaskData
from .tasks import properties


class FormService:
    """Validates the forms a model names; cleans data submitted for a task against its form."""

    def check_model(self, model: BuiltModel) -> None:
        for spec in _user_task_specs(model):
            props = properties(spec)
            for prop in ("formJsonSchemaFilename", "formUiSchemaFilename"):
                name = props.get(prop)
                if name and name not in model.forms:
                    raise InvalidModel(f"form file {name!r} named by {prop} was not found beside the model "
                                       "or in the forms folder", element_id=spec.bpmn_id)

    def clean(self, model: BuiltModel, form_key: str | None, ui_key: str | None, data: dict[str, Any],
              context: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise InvalidTaskData({"__all__": ["task data must be a JSON object"]})
        return dict(data)


def _user_task_specs(model: BuiltModel):
    for spec_group in (model.spec, *model.subprocess_specs.values()):
        if spec_group is None:
            continue
        for spec in spec_group.task_specs.values():
            if getattr(spec, "manual", False):
                yield spec
