// The page's link to the service worker: registering it, taking a new version only when no form is
// half-filled, asking it to send, and passing its news on to the page. The worker does all sending
// (one place, one replay at a time); pages only ask it to try. badge.js, signout.js, ready.js and
// outbox.js (Waiting to send) build on what this script shares as OutreachOffline.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator) || !self.OutreachStore || !self.OutreachContract) return;
  var store = self.OutreachStore;
  var sw = navigator.serviceWorker;
  var me = document.body.dataset.userId;

  function ask(message, ports) {
    return sw.ready.then(function (reg) { (sw.controller || reg.active).postMessage(message, ports || []); });
  }
  function sendNow(force) { if (me) ask({type: "replay", force: !!force}); }

  // Whatever changes what is on the phone (the worker's news, a fix made on this page) is told to the
  // page as one event, and each part of the page redraws itself from the phone.
  function changed(news) {
    document.dispatchEvent(new CustomEvent("outreach:outbox", {detail: news || {}}));
  }
  sw.addEventListener("message", function (event) {
    var news = event.data || {};
    if (news.type === "outbox") changed(news);
  });

  // ---- replay triggers: app start, focus, visibility, reconnect, and a steady nudge while open ----------
  window.addEventListener("online", function () { sendNow(true); });
  window.addEventListener("focus", function () { sendNow(false); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) sendNow(false); });
  setInterval(function () { if (!document.hidden) sendNow(false); }, 20000);

  // ---- the service worker, and taking a new version only when no form is half-filled --------------------
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.method === "post") form.dataset.dirty = "1";
  });
  function maybeUpdate(reg) {
    if (!reg.waiting) return;
    if (document.querySelector("form[data-dirty]")) return setTimeout(maybeUpdate, 5000, reg);
    reg.waiting.postMessage({type: "skip-waiting"});
  }
  sw.register(OutreachContract.urls.worker).then(function (reg) {
    function watch(next) {
      if (next) next.addEventListener("statechange", function () { if (next.state === "installed") maybeUpdate(reg); });
    }
    maybeUpdate(reg);
    // The browser looks for a new version as the page loads, so one may be installing already, its
    // "updatefound" gone by before this listener exists: watch it too, or it would wait for a restart.
    watch(reg.installing);
    reg.addEventListener("updatefound", function () { watch(reg.installing); });
    // Checked on each page load, so a new version reaches the phone on its next start.
    reg.update().catch(function () {});
  });
  if (me && navigator.storage && navigator.storage.persist) navigator.storage.persist();

  self.OutreachOffline = {
    me: me,
    ask: ask,
    sendNow: sendNow,
    changed: changed,
    // This user's rows of a store whose rows say whose they are ("ready", "discarded").
    mine: function (name) {
      return store.all(name).then(function (rows) {
        return rows.filter(function (r) { return String(r.user) === String(me); });
      });
    },
    stateOf: function (record) {
      if (record.state === "needs_attention") return "Needs attention";
      return record.lease > Date.now() ? "Sending" : "Waiting";
    },
    el: function (tag, content, cls) {
      var el = document.createElement(tag);
      el.textContent = content;
      if (cls) el.className = cls;
      return el;
    }
  };

  // A page load (the app starting, or a fresh sign-in) tries everything now, backed-off records too.
  sendNow(true);
})();
