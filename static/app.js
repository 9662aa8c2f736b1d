// RadPass front-end helpers. No inline scripts (CSP): behaviour hangs on data-* attributes.
(function () {
  "use strict";

  // Language menus submit on change; the Apply button stays for no-JS users.
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
      el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    }
  });

  function hideApply() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      var b = s.form && s.form.querySelector("button[type=submit]");
      if (b) b.classList.add("js-hidden");
    });
  }
  document.addEventListener("DOMContentLoaded", hideApply);
  document.addEventListener("htmx:afterSettle", hideApply);

  // A sign-in answered in place (htmx) starts a session, and the CSRF token
  // is bound to it: the response names the new token (X-Csrf-Token); the
  // forms and hx-headers outside the swapped part still hold the old one.
  document.addEventListener("htmx:afterSettle", function (e) {
    var xhr = e.detail && e.detail.xhr;
    var tok = xhr && xhr.getResponseHeader("X-Csrf-Token");
    if (!tok) return;
    document.querySelectorAll("input[name=_csrf]").forEach(function (i) { i.value = tok; });
    document.querySelectorAll("[hx-headers]").forEach(function (el) {
      var h;
      try { h = JSON.parse(el.getAttribute("hx-headers")); } catch (err) { return; }
      if (h && h["X-Csrf-Token"] !== undefined) {
        h["X-Csrf-Token"] = tok;
        el.setAttribute("hx-headers", JSON.stringify(h));
      }
    });
  });
})();
