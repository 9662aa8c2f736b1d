// Image viewer keyboard navigation (no inline script: CSP). Arrow keys and
// Page Up/Down follow the viewer's own links, so behaviour stays the same
// with or without JavaScript.
(function () {
  "use strict";
  var keys = {
    ArrowLeft: "[data-viewer-prev]", ArrowRight: "[data-viewer-next]",
    ArrowUp: "[data-viewer-prevframe]", ArrowDown: "[data-viewer-nextframe]",
    PageUp: "[data-viewer-prev]", PageDown: "[data-viewer-next]"
  };
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")) return;
    var viewer = document.querySelector("[data-viewer]");
    var sel = keys[e.key];
    if (!viewer || !sel) return;
    var link = viewer.querySelector(sel);
    if (link) {
      e.preventDefault();
      link.click();
    }
  });
})();
