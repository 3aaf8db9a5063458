// Outreach page script: small, no build step. The app works without it (plain forms and links).
(function () {
  "use strict";

  // Every write carries its own identity, made at the moment of submitting (a cached page is
  // submitted many times, so a UUID baked into the HTML would repeat): a UUID, the phone's time
  // and the author. Capture phase, so this runs before htmx reads the form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement) delete form.dataset.dirty;
    if (!(form instanceof HTMLFormElement) || !form.elements.namedItem("uuid")) return;
    // "12 Ash Walk: No answer": how the outbox names this record to the worker.
    var button = event.submitter;
    form.dataset.description = OutreachContract.describe(form.dataset.describe,
                                                         button && button.name ? button.textContent.trim() : "");
    form.elements.namedItem("uuid").value = crypto.randomUUID();
    var at = form.elements.namedItem("recorded_at");
    if (at) at.value = new Date().toISOString();
    var author = form.elements.namedItem("author_id");
    if (author && document.body.dataset.userId) author.value = document.body.dataset.userId;
  }, true);

  // A walk-list door opens inline under its row (one at a time: each door's form uses the same
  // ids); tapping it again closes it. One listener for the whole list keeps 1,200 rows light.
  // Capture phase, before htmx's boost handler on the link; without htmx the link just navigates.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".doors a.door");
    if (!link || !window.htmx || event.button || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    event.stopPropagation();
    var row = link.parentNode, panel = row.querySelector(".door-panel");
    document.querySelectorAll(".doors .door-panel").forEach(function (open) {
      if (open !== panel) open.remove();
    });
    if (panel) return panel.remove();
    panel = document.createElement("div");
    panel.className = "door-panel";
    row.appendChild(panel);
    htmx.ajax("GET", link.getAttribute("href") + "?from=walk", {source: link, target: panel, select: "#door",
                                                                 swap: "innerHTML"});
  }, true);

  var banner = function (text) {
    var el = document.getElementById("network-banner");
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
  };
  document.addEventListener("htmx:sendError", function () {
    banner("No connection: that did not reach the server.");
  });
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 401) banner("Your sign-in has expired. Sign in again; nothing recorded on this phone is lost.");
    else if (status >= 500) banner("The server had a problem. Try again in a moment.");
    else if (status === 400) banner("This page is out of date. Reload it and try again.");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) banner("");
  });

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt.closest && event.detail.elt.closest("form[data-outbox]");
    if (form && form.dataset.description) {
      event.detail.headers["X-Outreach-Describe"] = encodeURIComponent(form.dataset.description);
    }
  });
})();
