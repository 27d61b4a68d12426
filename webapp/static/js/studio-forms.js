// The form editor: a live preview rendered by the server (the same WTForms builder staff see), and saving into
// the draft. An invalid schema shows the server's reason instead of a preview.
(function () {
  "use strict";

  var editor = document.querySelector(".form-editor");
  if (!editor) { return; }
  var schema = document.getElementById("schema-text");
  var ui = document.getElementById("ui-text");
  var uiName = document.getElementById("ui-name");
  var preview = document.getElementById("form-preview");
  var problem = document.getElementById("form-error");
  var status = document.getElementById("form-status");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var timer = null;
  var sequence = 0;

  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
                        headers: { "Content-Type": "application/json", "Accept": "application/json",
                                   "X-CSRFToken": csrf },
                        body: JSON.stringify(body) })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { ok: response.ok, data: data };
        });
      });
  }

  function body() {
    return { schema: schema.value, ui: ui.value.trim() ? ui.value : null, ui_name: uiName.value.trim() || null };
  }

  function refuse(data) {
    problem.textContent = (data.error && data.error.message) || "The schema was refused.";
    problem.hidden = false;
  }

  function refresh() {
    var mine = ++sequence;  // an older, slower answer must not overwrite a newer one
    post(editor.dataset.previewUrl, body()).then(function (result) {
      if (mine !== sequence) { return; }
      if (!result.ok) { refuse(result.data); return; }
      problem.hidden = true;
      preview.innerHTML = result.data.html;  // rendered and escaped by the server's templates
      preview.dataset.ready = String(mine);
    }).catch(function (err) { refuse({ error: { message: "No preview: " + err.message } }); });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  [schema, ui, uiName].forEach(function (field) { field.addEventListener("input", later); });
  document.getElementById("save-form").addEventListener("click", function () {
    post(editor.dataset.saveUrl, body()).then(function (result) {
      if (!result.ok) {
        refuse(result.data);
        status.textContent = "Not saved: " + ((result.data.error || {}).message || "refused");
        status.className = "studio-status bad";
        return;
      }
      problem.hidden = true;
      status.textContent = "Saved into your draft at " + new Date(result.data.saved_at).toLocaleTimeString() + ".";
      status.className = "studio-status ok";
    });
  });
  refresh();
})();
