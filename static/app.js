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
})();
