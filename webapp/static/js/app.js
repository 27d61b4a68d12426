// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // After a failed submit the focus moves to what went wrong: the error summary, else an error message
  // (WCAG 3.3.1); its links move the focus to the field they name.
  var problem = document.querySelector("[data-error-summary]") || document.querySelector(".flash.error");
  if (problem) {
    if (!problem.hasAttribute("tabindex")) { problem.setAttribute("tabindex", "-1"); }
    problem.focus();
    problem.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (target) { event.preventDefault(); target.focus(); }
      });
    });
  }

  // On a phone a table marked .stack shows one card per row; cells the page did not label get their column's
  // heading as the label.
  document.querySelectorAll("table.stack").forEach(function (table) {
    var headings = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      Array.prototype.forEach.call(row.children, function (cell, index) {
        if (cell.tagName === "TD" && !cell.hasAttribute("data-label") && headings[index]) {
          cell.setAttribute("data-label", headings[index]);
        }
      });
    });
  });

  // Filters apply on their button or Enter only: a change of choice never reloads the page (WCAG 3.2.2).

  // Copy a link (the mail log's portal links) to the clipboard.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copy);
      input.select();
      (navigator.clipboard ? navigator.clipboard.writeText(input.value) : Promise.reject()).then(
        function () { button.textContent = "Copied"; }, function () { document.execCommand("copy"); });
    });
  });

  // Ask before destructive actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  // One click, one submit: the server refuses a second one anyway, this just avoids the round trip.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      // A disabled button is not sent: keep the pressed one's name and value (e.g. action=draft).
      var pressed = event.submitter;
      if (pressed && pressed.name) {
        var keep = document.createElement("input");
        keep.type = "hidden"; keep.name = pressed.name; keep.value = pressed.value;
        form.appendChild(keep);
      }
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        button.disabled = true;
        button.setAttribute("aria-busy", "true");
      });
    });
  });
})();
