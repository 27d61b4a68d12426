// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

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
