// Study list (STEP 1): live selection count, select-all, the one-patient rule
// and the PRINT REFERENCE NUMBER button state. The server checks the rule again.
(function () {
  "use strict";

  function selectionForm() { return document.getElementById("selection"); }

  function boxes(f) { return f.querySelectorAll('input[type=checkbox][name=study]'); }

  // state counts checked rows plus studies selected on other pages or searches.
  function state(f) {
    var patients = {}, n = 0, kinds = 0;
    function add(el) {
      n++;
      var p = el.getAttribute("data-patient") || "";
      if (!patients[p]) { patients[p] = true; kinds++; }
    }
    boxes(f).forEach(function (b) { if (b.checked) add(b); });
    f.querySelectorAll('input[type=hidden][name=study][data-carry]').forEach(add);
    return { count: n, mixed: kinds > 1 };
  }

  function update() {
    var f = selectionForm();
    if (!f) return;
    var s = state(f);
    var count = document.getElementById("selection-count");
    if (count) count.textContent = String(s.count);
    var button = document.getElementById("print-button");
    if (button) button.disabled = s.count === 0 || s.mixed;
    var mix = document.getElementById("patient-mix");
    if (mix) mix.hidden = !s.mixed;
    var all = document.getElementById("select-all");
    if (all) {
      var list = boxes(f), on = 0;
      list.forEach(function (b) { if (b.checked) on++; });
      all.checked = list.length > 0 && on === list.length;
      all.indeterminate = on > 0 && on < list.length;
    }
  }

  // Label colours come from data-color: CSP forbids style="" attributes.
  function paintLabels(root) {
    root.querySelectorAll(".label-chip[data-color]").forEach(function (el) {
      var c = el.getAttribute("data-color");
      if (/^#[0-9a-fA-F]{6}$/.test(c)) el.style.borderColor = c;
    });
  }

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.id === "select-all") {
      var f = selectionForm();
      if (f) boxes(f).forEach(function (b) { b.checked = t.checked; });
      update();
    } else if (t.matches && t.matches('#selection input[type=checkbox][name=study]')) {
      update();
    }
  });

  document.addEventListener("submit", function (e) {
    if (e.target.id !== "selection") return;
    var s = state(e.target);
    if (s.count === 0 || s.mixed) {
      e.preventDefault();
      update();
    }
  });

  function init() {
    // With JavaScript the live selection travels via hx-include; these copies
    // only serve the plain form and would resurrect unchecked studies.
    document.querySelectorAll("[data-nojs-carry]").forEach(function (el) { el.remove(); });
    update();
    paintLabels(document);
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", function () { update(); paintLabels(document); });
})();
