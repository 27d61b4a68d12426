"""Camunda 7 compatibility: models drawn for Camunda 7 and their external-task workers run here unchanged.

A feature above the kernel (engine/README.md): the dialect (detection, compat report, rewriting: dialect.py,
compat.py, forms.py, parser.py), the JUEL evaluator (el.py, el_parse.py), service-task handlers
(handlers.py, service_task.py, bpmn_errors.py), external tasks (external.py, models.py), and what an element does
as it starts and ends: input/output and call-activity mappings (mapping.py) and listeners (listeners.py), run as
its pre/post-script (program.py). `feature.Camunda` registers it all on
an engine's `Services`; the facade holds one as `Engine.camunda`.
"""
