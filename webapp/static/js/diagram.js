// Renders an instance's BPMN diagram with bpmn-js and marks its progress:
// completed elements and the flows between them, current tokens, waiting timers, a failed step.
(function () {
  "use strict";

  var container = document.getElementById("diagram");
  var stateNode = document.getElementById("diagram-state");
  if (!container || !stateNode || typeof window.BpmnJS !== "function") { return; }

  var state = JSON.parse(stateNode.textContent);
  var viewer = new window.BpmnJS({ container: container });
  var marks = [["completed", state.completed], ["active", state.active], ["timer", state.timers],
               ["failed", state.error]];

  function mark() {
    var canvas = viewer.get("canvas");
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
