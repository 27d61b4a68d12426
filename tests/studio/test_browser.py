"""In a real browser: a process owner changes the SLA timer in the modeler's side panel, validates (a broken
gateway condition shows a marker on the flow), deploys v2; new instances run on v2 while old ones stay on v1;
one old instance is moved to v2. Also the form editor's live preview and the version diff on the diagram."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support import BROWSER_PATIENCE_MS

pytestmark = pytest.mark.browser

@pytest.fixture
def owner(chromium, live_server, people):
    """A page signed in as the process owner."""
    context = chromium.new_context(base_url=live_server, viewport={"width": 1400, "height": 950})
    context.set_default_timeout(BROWSER_PATIENCE_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto("/login")
    page.get_by_label("User name").fill("po")
    page.get_by_label("Password").fill("tidal-lantern-orchard-42")
    page.keyboard.press("Enter")
    page.wait_for_url("**/inbox/")
    yield page
    context.close()
    assert errors == [], errors


# A point on a flow's line in page coordinates (its box centre may be off the line): nine tenths along its
# last segment, clear of the drag handle a selected flow shows at a segment's middle.
ON_THE_LINE = """id => {
  const modeler = window.clientflowModeler;
  const points = modeler.get("elementRegistry").get(id).waypoints;
  const [a, b] = points.slice(-2);
  const box = modeler.get("canvas").viewbox();
  const frame = document.getElementById("modeler").getBoundingClientRect();
  const x = a.x + (b.x - a.x) * 0.9, y = a.y + (b.y - a.y) * 0.9;
  return {x: frame.left + (x - box.x) * box.scale, y: frame.top + (y - box.y) * box.scale};
}"""


def select(page, element_id: str, *, flow: bool = False, header: bool = False) -> None:
    """Click an element of the diagram, as a person would (a lane on its name strip, a flow on its line)."""
    if page.locator(f'#panel .kind:has-text("{element_id}")').count():
        return  # selected already
    if flow:
        point = page.evaluate(ON_THE_LINE, element_id)
        page.mouse.click(point["x"], point["y"])
    else:
        target = page.locator(f'#modeler .djs-element[data-element-id="{element_id}"]').first
        box = target.bounding_box()
        position = {"x": 12, "y": box["height"] / 2} if header else None
        target.click(force=True, position=position)
    try:
        page.wait_for_selector(f'#panel .kind:has-text("{element_id}")')
    except Exception as err:
        raise AssertionError(f"{element_id} not selected; the panel shows: {page.inner_text('#panel')}") from err


def commit(page, label: str, value: str) -> None:
    """Type into a side panel field and leave it (the panel commits on change)."""
    field = page.locator("#panel").get_by_label(label, exact=True)
    field.fill(value)
    field.press("Tab")


def test_change_timer_validate_deploy_and_migrate(owner, engine, sla):
    page = owner
    old_a, old_b = engine.start("sla", by="alice"), engine.start("sla", by="alice")

    page.goto("/studio/processes/sla/edit")
    page.wait_for_selector('#modeler[data-ready="sla.bpmn"]')
    select(page, "sla_timer")
    assert page.locator("#panel").get_by_label("Timer", exact=True).input_value() == "PT1H"
    commit(page, "Timer", "PT2H")

    select(page, "f_yes", flow=True)
    commit(page, "Condition", 'resolution == "resolved" and')
    page.get_by_role("button", name="Validate").click()
    marker = page.locator('#modeler .djs-element.lint-error[data-element-id="f_yes"]')
    marker.wait_for()
    assert "does not compile" in page.locator('#findings li[data-element-id="f_yes"]').inner_text()
    assert page.locator(".lint-badge").first.inner_text() == "1 error"

    select(page, "f_yes", flow=True)
    commit(page, "Condition", 'resolution == "resolved"')
    page.get_by_role("button", name="Validate").click()
    page.wait_for_selector("#studio-status.ok")
    assert marker.count() == 0

    page.get_by_role("button", name="Deploy").click()
    page.wait_for_selector('#studio-status:has-text("Deployed version 2")')
    v2 = engine.definition_files("sla", 2)["sla.bpmn"]
    assert '"PT2H"' in v2 and '"PT1H"' not in v2
    assert 'name="formJsonSchemaFilename" value="handle.json"' in v2  # extensions survive the round trip
    assert engine.draft("sla", "po") is None

    new = engine.start("sla", by="alice")
    assert (new.version, engine.instance(old_a.id).version, engine.instance(old_b.id).version) == (2, 1, 1)
    page.goto("/studio/processes/sla")
    assert page.locator('tr[data-version="1"] .count').inner_text() == "2"
    assert page.locator('tr[data-version="2"] .count').inner_text() == "1"

    page.get_by_role("row", name=old_a.reference).get_by_role("link", name="Check the move to v2").click()
    page.wait_for_selector("text=This instance can move safely.")
    assert "is now due 2026-03-02T11:00+00:00 (was 2026-03-02T10:00+00:00)" in page.inner_text("main")
    page.get_by_role("button", name="Move to v2").click()
    page.wait_for_url(f"**/instances/{old_a.id}")
    assert "moved to version 2" in page.inner_text(".flash")
    assert (engine.instance(old_a.id).version, engine.instance(old_b.id).version) == (2, 1)
    assert [t.due_at for t in engine.timers(old_a.id) if t.pending] == [datetime(2026, 3, 2, 11, tzinfo=UTC)]

    page.goto("/studio/processes/sla/diff?old=1&new=2")
    page.wait_for_selector('#diff-new[data-ready="sla.bpmn"]')
    assert page.locator('#diff-new .djs-element.diff-changed[data-element-id="sla_timer"]').count() == 1
    assert page.locator('#diff-old .djs-element.diff-changed[data-element-id="sla_timer"]').count() == 1


def test_form_editor_previews_and_refuses(owner, engine, sla):
    page = owner
    page.goto("/studio/processes/sla/forms/handle.json")
    page.wait_for_selector('#form-preview select[name="resolution"]')
    schema = page.get_by_label("Form schema (JSON Schema subset)")
    schema.fill('{"type": "object", "properties": {"x": {"type": "string", "colour": "red"}}}')
    page.wait_for_selector("#form-error:not([hidden])")
    assert "'colour' is not supported" in page.inner_text("#form-error")
    schema.fill('{"type": "object", "required": ["when"], "properties": {"when": {"type": "string", '
                '"format": "date", "title": "Contacted on"}}}')
    page.wait_for_selector('#form-preview input[type="date"][name="when"]')
    assert page.locator("#form-error").is_hidden()
    page.get_by_role("button", name="Save form").click()
    page.wait_for_selector("#form-status.ok")
    assert '"Contacted on"' in engine.draft("sla", "po").files["handle.json"]


def test_user_task_form_and_lane_from_the_side_panel(owner, engine, sla):
    page = owner
    page.goto("/studio/processes/sla/edit")
    page.wait_for_selector('#modeler[data-ready="sla.bpmn"]')
    select(page, "escalate")
    assert page.locator("#panel").get_by_label("Form file", exact=True).input_value() == "escalate.json"
    commit(page, "Form file", "handle.json")
    select(page, "Lane_supervisor", header=True)
    commit(page, "Role (lane name)", "Team Lead")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_selector('#studio-status:has-text("Draft saved")')
    bpmn = engine.draft("sla", "po").files["sla.bpmn"]
    assert 'name="Team Lead"' in bpmn
    escalate = bpmn.split('id="escalate"')[1].split("</bpmn:userTask>")[0]
    assert 'value="handle.json"' in escalate


PALETTE_OVERLAPS = """() => {
  const palette = document.querySelector("#modeler .djs-palette").getBoundingClientRect();
  return [...document.querySelectorAll("#modeler .djs-shape")].filter(shape => {
    const box = shape.getBoundingClientRect();
    return box.left < palette.right && box.right > palette.left && box.top < palette.bottom && box.bottom > palette.top;
  }).map(shape => shape.dataset.elementId);
}"""


@pytest.mark.parametrize("width", [1400, 900])
def test_the_palette_leaves_the_diagram_uncovered(owner, sla, width):
    owner.set_viewport_size({"width": width, "height": 800})
    owner.goto("/studio/processes/sla/edit")
    owner.wait_for_selector('#modeler[data-ready="sla.bpmn"]')
    assert owner.evaluate(PALETTE_OVERLAPS) == []
