// A little help on top of plain forms; every page works without it.
(function () {
  "use strict";

  // A double click must not send a form twice: the first submit wins, the buttons go grey.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.getAttribute("data-sent") === "yes") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sent", "yes");
    // Disable after the browser has read the pressed button's name and value.
    window.setTimeout(function () {
      form.querySelectorAll("button").forEach(function (b) {
        b.disabled = true;
        b.setAttribute("aria-disabled", "true");
      });
    }, 0);
  });

  // Coming back with the browser's Back button shows the page as it was left: make it usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; b.removeAttribute("aria-disabled"); });
    });
  });

  // "Choose all" in the approvals inbox.
  document.addEventListener("change", function (event) {
    var box = event.target;
    var name = box.getAttribute && box.getAttribute("data-check-all");
    if (!name) return;
    box.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (other) {
      other.checked = box.checked;
    });
  });

  // After a refused form, take the keyboard and the screen reader to the problem.
  document.addEventListener("DOMContentLoaded", function () {
    var problem = document.getElementById("problem") || document.getElementById("outcomes");
    if (problem) problem.focus();
  });
})();
