// The studio modeler page: bpmn-js Modeler over the bundle's BPMN files, our side panel, and the server's
// draft / validate / deploy endpoints. Validation findings become markers on the faulty elements.
(function () {
  "use strict";

  var stateNode = document.getElementById("studio-state");
  var container = document.getElementById("modeler");
  if (!stateNode || !container || typeof window.BpmnJS !== "function") { return; }

  var state = JSON.parse(stateNode.textContent);
  var files = Object.assign({}, state.files);
  var current = state.bpmn_files[0];
  var findings = state.findings || [];
  var marked = [];
  var dirty = false;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var status = document.getElementById("studio-status");

  var modeler = new window.BpmnJS({ container: container,
                                    moddleExtensions: { spiffworkflow: window.ClientflowSpiffModdle } });
  window.clientflowModeler = modeler;  // for people (and tests) poking at the page from the console
  window.ClientflowStudioPanel(modeler, document.getElementById("panel"), {
    formFiles: function () { return Object.keys(files).filter(function (n) { return /\.json$/.test(n); }).sort(); },
    formUrl: function (name) { return state.urls.form.replace("NAME", encodeURIComponent(name)); },
    findings: function () { return findings.filter(function (f) { return !f.file || f.file === current; }); }
  });
  modeler.on("commandStack.changed", function () { dirty = true; });

  function say(message, kind) {
    status.textContent = message;
    status.className = "studio-status" + (kind ? " " + kind : "");
  }

  function load(name) {
    return modeler.importXML(files[name]).then(function () {
      current = name;
      fitBesidePalette();
      mark();
      container.dataset.ready = name;
    }).catch(function (err) {
      say("The diagram " + name + " could not be opened: " + err.message, "bad");
    });
  }

  // Fit the whole diagram in the part of the canvas the palette (top left, over the canvas) leaves free, so the
  // start of the process is never hidden under it.
  function fitBesidePalette() {
    var canvas = modeler.get("canvas");
    canvas.zoom("fit-viewport", "auto");
    var palette = container.querySelector(".djs-palette");
    var box = canvas.viewbox();
    if (!palette || !box.inner.width || !box.inner.height) { return; }
    var inset = palette.getBoundingClientRect().right - container.getBoundingClientRect().left + 16;
    var margin = 16;
    var scale = Math.min(1, (box.outer.width - inset - margin) / box.inner.width,
                         (box.outer.height - 2 * margin) / box.inner.height);
    canvas.viewbox({ x: box.inner.x - inset / scale, y: box.inner.y - margin / scale,
                     width: box.outer.width / scale, height: box.outer.height / scale });
  }

  // The current diagram's XML back into `files`.
  function collect() {
    return modeler.saveXML({ format: true }).then(function (result) {
      files[current] = result.xml;
      return files;
    });
  }

  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
                        headers: { "Content-Type": "application/json", "Accept": "application/json",
                                   "X-CSRFToken": csrf },
                        body: JSON.stringify(body) })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
      });
  }

  function problemText(data) {
    var error = data.error || {};
    var problems = (error.problems || []).map(function (p) {
      return (p.element_id ? p.element_id + ": " : (p.file ? p.file + ": " : "")) + p.message;
    });
    return problems.length ? problems.join("; ") : (error.message || "the server refused the request");
  }

  function busy(flag) {
    document.querySelectorAll(".toolbar button").forEach(function (b) { b.disabled = flag; });
  }

  // -- findings: a list under the diagram, markers and badges on it -----------------------------------------
  function mark() {
    var canvas = modeler.get("canvas");
    var registry = modeler.get("elementRegistry");
    var overlays = modeler.get("overlays");
    marked.forEach(function (pair) { if (registry.get(pair[0])) { canvas.removeMarker(pair[0], pair[1]); } });
    marked = [];
    overlays.remove({ type: "lint" });
    var counts = {};
    findings.forEach(function (f) {
      if (!f.element_id || (f.file && f.file !== current) || !registry.get(f.element_id)) { return; }
      var marker = "lint-" + f.severity;
      canvas.addMarker(f.element_id, marker);
      marked.push([f.element_id, marker]);
      var entry = counts[f.element_id] = counts[f.element_id] || { errors: 0, warnings: 0 };
      entry[f.severity === "error" ? "errors" : "warnings"] += 1;
    });
    Object.keys(counts).forEach(function (id) {
      var badge = document.createElement("span");
      var entry = counts[id];
      badge.className = "lint-badge" + (entry.errors ? "" : " warning");
      badge.textContent = entry.errors ? entry.errors + " error" + (entry.errors > 1 ? "s" : "")
        : entry.warnings + " warning" + (entry.warnings > 1 ? "s" : "");
      // On a flow the badge sits above its start, so it never covers the line a person clicks on.
      var flow = registry.get(id).waypoints;
      overlays.add(id, "lint", { position: flow ? { top: -26, left: 0 } : { top: -12, right: 12 }, html: badge });
    });
    list();
  }

  function list() {
    var box = document.getElementById("findings");
    box.textContent = "";
    if (!findings.length) {
      var none = document.createElement("p");
      none.className = "empty";
      none.textContent = "No problems found.";
      box.appendChild(none);
      return;
    }
    var ul = document.createElement("ul");
    ul.className = "findings";
    findings.forEach(function (f) {
      var li = document.createElement("li");
      li.className = f.severity;
      li.dataset.elementId = f.element_id || "";
      var sev = document.createElement("span");
      sev.className = "sev";
      sev.textContent = f.severity;
      li.appendChild(sev);
      if (f.element_id) {
        var go = document.createElement("button");
        go.type = "button";
        go.className = "link";
        go.textContent = f.element_id;
        go.addEventListener("click", function () { select(f); });
        li.appendChild(go);
        li.appendChild(document.createTextNode(": "));
      }
      li.appendChild(document.createTextNode(f.message + (f.file && f.file !== current ? " (" + f.file + ")" : "")));
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  function select(finding) {
    var open = finding.file && finding.file !== current && files[finding.file] ? switchTo(finding.file)
      : Promise.resolve();
    open.then(function () {
      var element = modeler.get("elementRegistry").get(finding.element_id);
      if (element) {
        modeler.get("selection").select(element);
        modeler.get("canvas").scrollToElement(element);
      }
    });
  }

  function summary(data) {
    var parts = [];
    if (data.errors) { parts.push(data.errors + " error" + (data.errors > 1 ? "s" : "")); }
    if (data.warnings) { parts.push(data.warnings + " warning" + (data.warnings > 1 ? "s" : "")); }
    return parts.length ? parts.join(", ") : "no problems";
  }

  // -- actions --------------------------------------------------------------------------------------------
  function saveDraft() {
    busy(true);
    return collect().then(function () {
      return post(state.urls.draft, { files: files, base_version: state.base_version });
    }).then(function (result) {
      if (!result.ok) { throw new Error(problemText(result.data)); }
      dirty = false;
      state.is_draft = true;
      say("Draft saved at " + new Date(result.data.saved_at).toLocaleTimeString() + ".", "ok");
      return result;
    }).catch(function (err) { say("The draft was not saved: " + err.message, "bad"); throw err; })
      .finally(function () { busy(false); });
  }

  function validate() {
    busy(true);
    return collect().then(function () { return post(state.urls.validate, { files: files }); })
      .then(function (result) {
        if (!result.ok) {
          findings = ((result.data.error || {}).problems || []).map(function (p) {
            return Object.assign({ severity: "error", rule: "engine" }, p);
          });
          mark();
          say("Validation failed: " + problemText(result.data), "bad");
          return;
        }
        findings = result.data.findings;
        mark();
        say("Validated: " + summary(result.data) + ".", result.data.errors ? "bad" : "ok");
      })
      .catch(function (err) { say("Validation did not run: " + err.message, "bad"); })
      .finally(function () { busy(false); });
  }

  function deploy() {
    busy(true);
    return collect().then(function () { return post(state.urls.deploy, { files: files }); })
      .then(function (result) {
        if (result.data.findings) { findings = result.data.findings; mark(); }
        if (!result.ok) {
          say("Not deployed: " + (result.data.errors ? summary(result.data) + " — fix the errors marked on the "
            + "diagram." : problemText(result.data)), "bad");
          return;
        }
        dirty = false;
        state.base_version = result.data.version;
        state.is_draft = false;
        say(result.data.created ? "Deployed version " + result.data.version + ". New instances start on it; " +
          "running ones stay on theirs." : "Nothing changed: version " + result.data.version + " is the same.", "ok");
        var link = document.createElement("a");
        link.href = result.data.url;
        link.textContent = " See the versions →";
        status.appendChild(link);
        document.getElementById("origin").textContent = "Version v" + result.data.version +
          " (changes are saved as your draft)";
      })
      .catch(function (err) { say("Not deployed: " + err.message, "bad"); })
      .finally(function () { busy(false); });
  }

  function switchTo(name) {
    return collect().then(function () { return load(name); }).then(function () {
      document.querySelectorAll("[data-bpmn-file]").forEach(function (tab) {
        if (tab.dataset.bpmnFile === name) { tab.setAttribute("aria-current", "true"); }
        else { tab.removeAttribute("aria-current"); }
      });
    });
  }

  document.getElementById("save-draft").addEventListener("click", function () { saveDraft().catch(function () {}); });
  document.getElementById("validate").addEventListener("click", validate);
  document.getElementById("deploy").addEventListener("click", deploy);
  document.querySelectorAll("[data-bpmn-file]").forEach(function (tab) {
    tab.addEventListener("click", function (event) { event.preventDefault(); switchTo(tab.dataset.bpmnFile); });
  });

  // Leaving for the form editor keeps the diagram's changes: save the draft first.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-save-first]");
    if (!link) { return; }
    event.preventDefault();
    saveDraft().then(function () { dirty = false; window.location.href = link.href; }).catch(function () {});
  });
  document.getElementById("new-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("new-form-name");
    var name = input.value.trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9._ -]*\.json$/.test(name)) {
      say("A form file name ends in .json and holds only letters, digits, spaces, '.', '_' and '-'.", "bad");
      input.focus();
      return;
    }
    saveDraft().then(function () { dirty = false; window.location.href = state.urls.form.replace("NAME", encodeURIComponent(name)); })
      .catch(function () {});
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  load(current).then(list);
})();
