// PRINT REFERENCE NUMBER: show/hide dependent fields, open the letter in a new
// tab for "Print immediately", COPY THIS INFORMATION. No inline script (CSP):
// everything hangs on data-* attributes.
(function () {
  "use strict";

  var LETTER_WINDOW = "radpass-letter";
  var pending = null; // the tab opened during the click, while the server prints

  // data-show-if="name=value&name2=value2": visible only when every condition holds.
  function conditionHolds(form, cond) {
    var parts = cond.split("=");
    var on = false;
    form.querySelectorAll('[name="' + parts[0] + '"]').forEach(function (i) {
      if (i.type === "checkbox" || i.type === "radio") {
        if (i.checked && (parts[1] === undefined || i.value === parts[1])) on = true;
      } else if (i.value === parts[1]) {
        on = true;
      }
    });
    return on;
  }

  function sync(root) {
    (root || document).querySelectorAll("form [data-show-if]").forEach(function (el) {
      var form = el.closest("form");
      el.hidden = !el.getAttribute("data-show-if").split("&").every(function (c) { return conditionHolds(form, c); });
    });
  }

  document.addEventListener("change", function (e) {
    var form = e.target.form || (e.target.closest && e.target.closest("form"));
    if (form && form.querySelector("[data-show-if]")) sync(form);
  });

  // Print immediately: a tab can only be opened during the click (popup
  // blockers), so open an empty named tab now; the confirmation page then
  // loads the letter into it. If the form comes back with errors, close it.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.id !== "print-form") return;
    var now = form.querySelector('[name="print_now"]');
    if (now && now.checked) {
      pending = window.open("", LETTER_WINDOW);
    }
  });
  // The form comes back with errors (422, swapped in place) or the request
  // fails: no letter is coming, so close the empty tab. beforeSwap runs while
  // the old form is still in the page, so the event reaches us.
  function closePending() {
    if (pending) {
      pending.close();
      pending = null;
    }
  }
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status >= 400 && e.detail.elt && e.detail.elt.id === "print-form") closePending();
  });
  document.addEventListener("htmx:sendError", closePending);
  document.addEventListener("htmx:responseError", closePending);

  function autoOpen() {
    var a = document.querySelector("a[data-autoopen]");
    if (!a || a.dataset.opened) return;
    a.dataset.opened = "1";
    window.open(a.href, LETTER_WINDOW);
    // A reload of the confirmation must not open the letter again.
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname);
    }
    // Nor may the language switcher, which comes back to this page.
    document.querySelectorAll('input[name="back"]').forEach(function (b) {
      b.value = window.location.pathname;
    });
  }

  // COPY THIS INFORMATION: the Clipboard API where available, else select
  // the text and use execCommand, else show the text to copy by hand.
  function copied(btn, ok) {
    var status = btn.parentNode.querySelector("[data-copy-status]");
    if (ok) {
      btn.classList.add("copied");
      btn.textContent = btn.getAttribute("data-copied-label");
      if (status) status.textContent = btn.getAttribute("data-copied-label");
    } else {
      btn.classList.remove("copied");
    }
  }

  function fallbackCopy(btn, area) {
    area.hidden = false;
    area.classList.remove("js-hidden");
    var label = document.querySelector('label[for="' + area.id + '"]');
    if (label) label.classList.remove("js-hidden");
    area.focus();
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
    copied(btn, ok);
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-copy-target]");
    if (!btn) return;
    var area = document.querySelector(btn.getAttribute("data-copy-target"));
    if (!area) return;
    var text = area.value;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(btn, true); }, function () { fallbackCopy(btn, area); });
    } else {
      fallbackCopy(btn, area);
    }
  });

  function init() {
    sync(document);
    document.querySelectorAll("[data-copy-target]").forEach(function (btn) {
      btn.hidden = false;
      var area = document.querySelector(btn.getAttribute("data-copy-target"));
      if (area) {
        area.classList.add("js-hidden"); // shown again only if copying fails
        var label = document.querySelector('label[for="' + area.id + '"]');
        if (label) label.classList.add("js-hidden");
      }
    });
    autoOpen();
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", function () { sync(document); });
})();
