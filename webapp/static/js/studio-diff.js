// The version diff page: the old and the new diagram side by side, removed / changed / added elements marked.
(function () {
  "use strict";

  var stateNode = document.getElementById("diff-state");
  if (!stateNode || typeof window.BpmnJS !== "function") { return; }
  var state = JSON.parse(stateNode.textContent);
  var sides = {
    old: { box: document.getElementById("diff-old"), marks: { removed: "diff-removed", changed: "diff-changed" } },
    "new": { box: document.getElementById("diff-new"), marks: { added: "diff-added", changed: "diff-changed" } }
  };
  Object.keys(sides).forEach(function (side) { sides[side].viewer = new window.BpmnJS({ container: sides[side].box }); });

  function show(file) {
    Object.keys(sides).forEach(function (side) {
      var entry = sides[side];
      var xml = state.diagrams[file][side];
      entry.box.dataset.ready = "";
      if (!xml) {
        entry.viewer.clear();
        entry.box.dataset.ready = file;
        entry.box.setAttribute("aria-label", "This version has no " + file);
        return;
      }
      entry.viewer.importXML(xml).then(function () {
        var canvas = entry.viewer.get("canvas");
        var registry = entry.viewer.get("elementRegistry");
        Object.keys(entry.marks).forEach(function (kind) {
          state.diff[kind].forEach(function (change) {
            if (change.file === file && registry.get(change.element_id)) {
              canvas.addMarker(change.element_id, entry.marks[kind]);
            }
          });
        });
        canvas.zoom("fit-viewport", "auto");
        entry.box.dataset.ready = file;
      }).catch(function (err) {
        entry.box.textContent = "Diagram not shown: " + err.message;
      });
    });
  }

  document.querySelectorAll("[data-diff-file]").forEach(function (tab) {
    tab.addEventListener("click", function (event) {
      event.preventDefault();
      document.querySelectorAll("[data-diff-file]").forEach(function (t) { t.removeAttribute("aria-current"); });
      tab.setAttribute("aria-current", "true");
      show(tab.dataset.diffFile);
    });
  });
  var first = Object.keys(state.diagrams)[0];
  if (first) { show(first); }
})();
