// compactwatch archive: small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Filter selects apply on change (the Apply button still works without JavaScript).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      if (select.form) select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit();
    });
  });

  // Bulk selection on the articles list.
  var bulk = document.getElementById("bulk");
  if (bulk) {
    var boxes = Array.prototype.slice.call(bulk.querySelectorAll('input[type=checkbox][name=ids]'));
    var all = bulk.querySelector("[data-select-all]");
    var count = bulk.querySelector("[data-selected-count]");
    var apply = bulk.querySelector("[data-bulk-apply]");
    var choices = Array.prototype.slice.call(bulk.querySelectorAll("[data-bulk-choice]"));
    var refresh = function () {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      var chosen = choices.every(function (c) { return c.value !== ""; });
      if (count) count.textContent = n + " selected";
      // No action is pre-selected: the button waits for articles, a label and a value.
      if (apply) apply.disabled = n === 0 || !chosen;
      if (all) {
        all.checked = n > 0 && n === boxes.length;
        all.indeterminate = n > 0 && n < boxes.length;
      }
    };
    boxes.forEach(function (b) { b.addEventListener("change", refresh); });
    choices.forEach(function (c) { c.addEventListener("change", refresh); });
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        refresh();
      });
    }
    bulk.addEventListener("submit", function (event) {
      var n = boxes.filter(function (b) { return b.checked; }).length;
      if (n > 20 && !window.confirm("Change the label on " + n + " articles?")) event.preventDefault();
    });
    refresh();
  }

  // "/" focuses the search box, as in most search tools.
  var search = document.querySelector('input[type=search][name=q]');
  if (search) {
    document.addEventListener("keydown", function (event) {
      var tag = (event.target && event.target.tagName) || "";
      if (event.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(tag)) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    });
  }
})();
