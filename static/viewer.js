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

// Touch and pointer helpers for the viewer, for phones: swipe left/right on
// the image follows next/previous, tapping the image or the Zoom button
// toggles a 2x zoom, the slider jumps on change (its Apply button stays for
// no-JS use).
(function () {
  "use strict";
  var startX = null, startY = null;
  document.addEventListener("touchstart", function (e) {
    if (!e.target.closest || !e.target.closest("[data-swipe]") || e.touches.length !== 1) return;
    startX = e.touches[0].clientX; startY = e.touches[0].clientY;
  }, { passive: true });
  document.addEventListener("touchend", function (e) {
    if (startX === null) return;
    var dx = e.changedTouches[0].clientX - startX, dy = e.changedTouches[0].clientY - startY;
    startX = null;
    var fig = e.target.closest && e.target.closest("[data-swipe]");
    if (!fig || fig.classList.contains("zoomed") || Math.abs(dx) < 50 || Math.abs(dx) < 2 * Math.abs(dy)) return;
    var viewer = fig.closest("[data-viewer]");
    var link = viewer && viewer.querySelector(dx < 0 ? "[data-viewer-next]" : "[data-viewer-prev]");
    if (link) link.click();
  }, { passive: true });
  document.addEventListener("click", function (e) {
    var img = e.target.closest && e.target.closest("img[data-zoom], [data-zoom-toggle]");
    if (img) {
      var viewer = img.closest("[data-viewer]");
      var fig = viewer && viewer.querySelector("[data-swipe]");
      var on = fig && fig.classList.toggle("zoomed");
      var zb = viewer && viewer.querySelector("[data-zoom-toggle]");
      if (zb) zb.setAttribute("aria-pressed", on ? "true" : "false");
    }
    var b = e.target.closest && e.target.closest("[data-dismiss]");
    if (b) {
      var box = b.closest("[data-dismissible]");
      if (box) {
        box.hidden = true;
        try { sessionStorage.setItem("dismissed:" + box.getAttribute("data-dismissible"), "1"); } catch (err) { /* private mode */ }
      }
    }
  });
  function init() {
    document.querySelectorAll("[data-dismissible]").forEach(function (box) {
      var done = false;
      try { done = sessionStorage.getItem("dismissed:" + box.getAttribute("data-dismissible")) === "1"; } catch (err) { /* private mode */ }
      if (done) box.hidden = true;
      var b = box.querySelector("[data-dismiss]");
      if (b) b.hidden = false;
    });
    document.querySelectorAll("[data-slider-go]").forEach(function (b) { b.classList.add("js-hidden"); });
    document.querySelectorAll("[data-zoom-toggle]").forEach(function (b) { b.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();

// The viewer page sizes the image's box from the picture's proportions
// (static/viewer.css, --h-per-w): a tall radiograph gets a taller box on a
// phone than a square CT. Without JavaScript the box is square.
(function () {
  "use strict";
  function fit(img) {
    var page = img.closest && img.closest(".viewer-page");
    if (page && img.naturalWidth > 0) page.style.setProperty("--h-per-w", String(img.naturalHeight / img.naturalWidth));
  }
  document.addEventListener("load", function (e) {
    if (e.target.matches && e.target.matches("img[data-zoom]")) fit(e.target);
  }, true);
  function init() {
    document.querySelectorAll("img[data-zoom]").forEach(function (img) { if (img.complete) fit(img); });
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
