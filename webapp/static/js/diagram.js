// Renders a BPMN diagram with bpmn-js, with zoom buttons. On an instance page (#diagram-state) it marks the
// progress: completed elements and the flows between them, current tokens, waiting timers, a failed step. On a
// process page (#diagram-counts) it puts on each element the number of open cases waiting or failed there.
(function () {
  "use strict";

  var container = document.getElementById("diagram");
  var stateNode = document.getElementById("diagram-state");
  var countsNode = document.getElementById("diagram-counts");
  if (!container || !(stateNode || countsNode) || typeof window.BpmnJS !== "function") { return; }

  var state = stateNode ? JSON.parse(stateNode.textContent) : null;
  var counts = countsNode ? JSON.parse(countsNode.textContent) : null;
  var viewer = new window.BpmnJS({ container: container });

  document.querySelectorAll("[data-zoom]").forEach(function (button) {
    button.addEventListener("click", function () {
      var canvas = viewer.get("canvas");
      if (button.dataset.zoom === "fit") { canvas.zoom("fit-viewport", "auto"); return; }
      var by = button.dataset.zoom === "in" ? 1.25 : 0.8;
      canvas.zoom(Math.min(4, Math.max(0.2, canvas.zoom() * by)));
    });
  });

  function count(overlays, registry, id, number, kind) {
    if (!number || !registry.get(id)) { return; }
    var badge = document.createElement("span");
    badge.className = "count " + kind;
    badge.textContent = String(number);
    badge.title = number + (kind === "failed" ? " failed here" : " waiting here");
    overlays.add(id, kind, { position: kind === "failed" ? { top: -10, left: -10 } : { bottom: 10, right: 10 },
                             html: badge });
  }

  function mark() {
    var canvas = viewer.get("canvas");
    if (counts) {
      var overlays = viewer.get("overlays"), elements = viewer.get("elementRegistry");
      Object.keys(counts.waiting).forEach(function (id) { count(overlays, elements, id, counts.waiting[id], "waiting"); });
      Object.keys(counts.failed).forEach(function (id) { count(overlays, elements, id, counts.failed[id], "failed"); });
      canvas.zoom("fit-viewport", "auto");
      return;
    }
    var marks = [["completed", state.completed], ["active", state.active], ["timer", state.timers],
                 ["failed", state.error]];
    var registry = viewer.get("elementRegistry");
    var done = new Set(state.completed);
    var reached = new Set(state.completed.concat(state.active, state.timers));
    marks.forEach(function (pair) {
      pair[1].forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, pair[0]); } });
    });
    // A flow was taken when its source completed and its target was reached; out of a decision gateway,
    // only towards the targets the audit trail says it chose (so a loop back is not shown as taken).
    var gateways = state.gateways || {};
    registry.filter(function (el) { return el.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
      var bo = flow.businessObject;
      if (!bo.sourceRef || !bo.targetRef) { return; }
      var source = bo.sourceRef.id, target = bo.targetRef.id;
      var chosen = gateways[source] ? gateways[source].indexOf(target) !== -1 : true;
      if (done.has(source) && reached.has(target) && chosen) { canvas.addMarker(flow.id, "taken"); }
    });
    canvas.zoom("fit-viewport", "auto");
  }

  function show(file) {
    container.setAttribute("aria-busy", "true");
    fetch(container.dataset.url + "?file=" + encodeURIComponent(file), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("the diagram could not be loaded (" + response.status + ")"); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () { mark(); container.dataset.rendered = file; })
      .catch(function (err) {
        container.textContent = "";
        var p = document.createElement("p");
        p.className = "error";
        p.textContent = "Diagram not shown: " + err.message;
        container.appendChild(p);
      })
      .finally(function () { container.removeAttribute("aria-busy"); });
  }

  document.querySelectorAll("[data-diagram-file]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      document.querySelectorAll("[data-diagram-file]").forEach(function (l) { l.removeAttribute("aria-current"); });
      link.setAttribute("aria-current", "true");
      show(link.dataset.diagramFile);
    });
  });

  if (container.dataset.file) { show(container.dataset.file); }
})();
