// "Make ready offline": fetch every page of the ready list through the worker (which saves them), with
// a progress bar, then say how ready this phone is ("Ready offline: 412 doors, updated 08:10").
(function () {
  "use strict";
  if (!self.OutreachOffline) return;
  var offline = self.OutreachOffline, contract = self.OutreachContract, store = self.OutreachStore;
  var me = offline.me;

  function showReady(section) {
    return store.get(section.dataset.ready + ":" + me, "ready").then(function (ready) {
      if (!ready) return;
      section.querySelector(".ready-line").textContent = "Ready offline: " + ready.doors + " door" +
        (ready.doors === 1 ? "" : "s") + ", updated " + contract.when(ready.at) +
        (ready.failed ? " (" + ready.failed + " pages could not be saved: try again)" : "");
    });
  }

  function makeReady(section) {
    var button = section.querySelector("[data-make-ready]");
    var bar = section.querySelector(".ready-progress");
    var line = section.querySelector(".ready-line");
    if (!navigator.serviceWorker.controller) {
      line.textContent = "Offline use is still being set up on this phone: try again in a moment.";
      return;
    }
    button.disabled = true;
    line.textContent = "Making ready offline…";
    fetch(section.dataset.readyUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      }).then(function (list) {
        var urls = list.urls.slice(), done = 0, failed = 0;
        bar.max = urls.length;
        bar.value = 0;
        bar.hidden = false;
        // A few at a time: quick on good signal, gentle on the server.
        function next() {
          var url = urls.shift();
          if (!url) return Promise.resolve();
          return fetch(url, {headers: {"X-Outreach-Save": "1"}, credentials: "same-origin"})
            .then(function (r) { if (r.status !== 204) failed++; }, function () { failed++; })
            .then(function () {
              bar.value = ++done;
              line.textContent = "Saving " + done + " of " + list.urls.length + " pages…";
              return next();
            });
        }
        return Promise.all([next(), next(), next(), next()]).then(function () {
          return store.put({key: section.dataset.ready + ":" + me, user: me, doors: list.doors,
                            pages: list.urls.length, failed: failed, at: new Date().toISOString()}, "ready");
        });
      }).then(function () { return showReady(section); }, function () {
        line.textContent = "Could not make this ready offline: no signal. Try again where there is.";
      }).then(function () { bar.hidden = true; button.disabled = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-make-ready]");
    if (button) makeReady(button.closest("[data-ready]"));
  });

  function readyLines() {
    if (me) document.querySelectorAll("[data-ready]").forEach(showReady);
  }
  document.addEventListener("htmx:load", readyLines);
  readyLines();
})();
