// The page's side of working offline: the outbox badge, what is waiting shown on the walk list and the
// door, "Waiting to send", "Make ready offline", the storage panel and a safe sign-out. The service worker
// does all sending (one place, one replay at a time); pages only ask it to try.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator) || !self.OutreachStore || !self.OutreachContract) return;
  var store = self.OutreachStore;
  var contract = self.OutreachContract;
  var body = document.body;
  var me = body.dataset.userId;
  var sw = navigator.serviceWorker;
  var $ = function (id) { return document.getElementById(id); };

  function ask(message) {
    return sw.ready.then(function (reg) { (sw.controller || reg.active).postMessage(message); });
  }
  function sendNow(force) { if (me) ask({type: "replay", force: !!force}); }

  var when = contract.when;
  function text(tag, content, cls) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (cls) el.className = cls;
    return el;
  }
  function stateOf(r) {
    if (r.state === "needs_attention") return "Needs attention";
    return r.lease > Date.now() ? "Sending" : "Waiting";
  }

  // ---- the badge and what is pending on this page ----------------------------------------------------
  function refresh() {
    if (!me) return Promise.resolve();
    return store.mine(me).then(function (records) {
      var link = $("outbox-link");
      if (link) {
        $("outbox-count").textContent = records.length;
        link.classList.toggle("has-records", records.length > 0);
        link.hidden = false;  // only once counted: a "0" before the phone is read would be a lie
      }
      overlay(records);
      if ($("outbox")) drawOutbox(records);
    });
  }

  function overlay(records) {
    document.querySelectorAll("[data-pending]").forEach(function (el) { el.remove(); });
    records.forEach(function (r) {
      var door = contract.doorOf(r.url);
      if (!door) return;
      var what = contract.whatOf(r.description) || "Visit";
      var link = document.querySelector('.doors a[href="' + contract.doorUrl(door) + '"]');
      if (link && link.querySelector(".status")) {
        var tag = text("span", "On phone: " + what + " · ", "pending");
        tag.dataset.pending = "";
        link.querySelector(".status").prepend(tag);
      }
      document.querySelectorAll('#door[data-property-id="' + door + '"] .history').forEach(function (list) {
        var item = document.createElement("li");
        item.className = "pending";
        item.dataset.pending = "";
        item.append(text("strong", what), text("span", when(r.recordedAt) + " · " + stateOf(r).toLowerCase() +
          " on this phone, not yet on the server"));
        list.prepend(item);
      });
    });
  }

  sw.addEventListener("message", function (event) {
    var news = event.data || {};
    if (news.type !== "outbox") return;
    var banner = $("signin-banner");
    if (banner) banner.hidden = !news.signin || location.pathname === contract.urls.login;
    var bar = $("outbox-progress");
    if (bar) {
      bar.hidden = !news.progress;
      if (news.progress) { bar.max = news.progress.of; bar.value = news.progress.done; }
    }
    refresh();
  });

  // ---- replay triggers: app start, focus, visibility, reconnect, and a steady nudge while open ----------
  // A page load (the app starting, or a fresh sign-in) tries everything now, backed-off records too.
  function start() {
    refresh();
    sendNow(true);
  }
  window.addEventListener("online", function () { sendNow(true); });
  window.addEventListener("focus", function () { sendNow(false); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) sendNow(false); });
  setInterval(function () { if (!document.hidden) sendNow(false); }, 20000);
  document.addEventListener("htmx:afterSettle", refresh);

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
  sw.register(contract.urls.worker).then(function (reg) {
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

  // ---- sign-out: refused while this user's records are on the phone; a clean one wipes their traces -----
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-signout") || form.dataset.cleared) return;
    event.preventDefault();
    store.mine(me).then(function (records) {
      if (records.length) {
        var banner = $("network-banner");
        banner.textContent = "";
        banner.append(records.length + (records.length === 1 ? " record is" : " records are") +
          " on this phone and not yet on the server, so you can't sign out yet. ");
        var link = text("a", "Send them first");
        link.href = $("outbox-link").href;
        banner.append(link);
        banner.hidden = false;
        sendNow(true);
        return;
      }
      return forget().then(function () {
        form.dataset.cleared = "1";
        form.submit();
      });
    });
  }, true);

  function forget() {
    var mineOnly = function (name) {
      return store.all(name).then(function (rows) {
        return Promise.all(rows.filter(function (r) { return String(r.user) === String(me); })
          .map(function (r) { return store.remove(r.key !== undefined ? r.key : r.id, name); }));
      });
    };
    return Promise.all([caches.delete(store.PAGES), mineOnly("ready"), mineOnly("discarded"),
      store.meta("user", null)]).then(function () { return ask({type: "signed-out"}); }).catch(function () {});
  }

  // ---- make ready offline ---------------------------------------------------------------------------
  function showReady(section) {
    return store.get(section.dataset.ready + ":" + me, "ready").then(function (ready) {
      if (!ready) return;
      section.querySelector(".ready-line").textContent = "Ready offline: " + ready.doors + " door" +
        (ready.doors === 1 ? "" : "s") + ", updated " + when(ready.at) +
        (ready.failed ? " (" + ready.failed + " pages could not be saved: try again)" : "");
    });
  }

  function makeReady(section) {
    var button = section.querySelector("[data-make-ready]");
    var bar = section.querySelector(".ready-progress");
    var line = section.querySelector(".ready-line");
    if (!sw.controller) {
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
    var target = event.target.closest && event.target.closest("[data-make-ready],[data-send-now],[data-download]");
    if (!target) return;
    if (target.hasAttribute("data-make-ready")) makeReady(target.closest("[data-ready]"));
    else if (target.hasAttribute("data-send-now")) sendNow(true);
    else download();
  });

  function readyLines() {
    if (me) document.querySelectorAll("[data-ready]").forEach(showReady);
  }
  document.addEventListener("htmx:load", readyLines);

  // ---- waiting to send --------------------------------------------------------------------------------
  var HIDDEN_FIELDS = ["csrf_token", "from"].concat(contract.RECORD_FIELDS);

  function drawOutbox(records) {
    var list = $("outbox-list");
    if (list.querySelector("[data-editing]")) return;  // don't redraw under the worker's fingers
    list.textContent = "";
    var attention = records.filter(function (r) { return r.state === "needs_attention"; }).length;
    $("outbox-summary").textContent = records.length ? records.length + " record" +
      (records.length === 1 ? "" : "s") + " on this phone, not yet on the server" +
      (attention ? " (" + attention + " need" + (attention === 1 ? "s" : "") + " attention)." : ".") :
      "Nothing waiting: everything recorded on this phone is on the server.";
    records.forEach(function (r) { list.append(drawRecord(r)); });
    store.all().then(function (all) {
      var others = all.length - records.length;
      $("outbox-others").hidden = !others;
      $("outbox-others").textContent = others + " record" + (others === 1 ? "" : "s") + " made by someone else" +
        " on this phone will be sent when they sign in.";
    });
    phonePanel(records);
    store.all("discarded").then(function (rows) {
      $("discarded-list").textContent = "";
      rows.filter(function (d) { return String(d.user) === String(me); }).forEach(function (d) {
        $("discarded-list").append(text("li", d.description + " (recorded " + when(d.recordedAt) +
          "): discarded " + when(d.at) + ", because: " + d.reason));
      });
    });
  }

  function drawRecord(r) {
    var item = document.createElement("li");
    item.className = "outbox-item state-" + r.state;
    item.append(text("strong", r.description), text("span", "Recorded " + when(r.recordedAt)),
      text("span", stateOf(r), "outbox-state"));
    if (r.lastError) item.append(text("span", r.lastError, r.state === "needs_attention" ? "error" : "reason"));
    if (r.state === "needs_attention") item.append(fixForm(r));
    return item;
  }

  // Fix and resend, or discard with a reason the worker types: nothing leaves the outbox silently.
  function fixForm(r) {
    var form = document.createElement("form");
    form.className = "fix";
    var fields = new URLSearchParams(r.body);
    var outcomes = JSON.parse($("outbox").dataset.outcomes || "{}");
    var inputs = {};
    fields.forEach(function (value, name) {
      if (HIDDEN_FIELDS.indexOf(name) >= 0) return;
      var id = "fix-" + r.id + "-" + name, input;
      if (name === "outcome") {
        input = document.createElement("select");
        Object.keys(outcomes).forEach(function (code) {
          var option = text("option", outcomes[code]);
          option.value = code;
          input.append(option);
        });
      } else {
        input = document.createElement(name === "notes" ? "textarea" : "input");
      }
      input.id = id;
      input.value = value;
      var label = text("label", name === "outcome" ? "What happened at the door" : name.replace(/_/g, " "));
      label.htmlFor = id;
      form.append(label, input);
      inputs[name] = input;
    });
    form.addEventListener("input", function () { form.dataset.editing = "1"; });
    var resend = text("button", "Resend");
    resend.type = "button";
    resend.addEventListener("click", function () {
      delete form.dataset.editing;
      Object.keys(inputs).forEach(function (name) { fields.set(name, inputs[name].value); });
      // 409: the server holds this identity with other content, so the fixed record needs a new one.
      // Any other refusal stored nothing, so the same identity is kept (a resend can't double-count).
      if (r.lastStatus === 409) fields.set("uuid", crypto.randomUUID());
      var label = fields.get("outcome") && outcomes[fields.get("outcome")];
      r.uuid = fields.get("uuid");
      r.body = fields.toString();
      if (label) r.description = contract.describe(contract.placeOf(r.description), label);
      r.state = "waiting";
      r.attempts = 0;
      r.nextTry = 0;
      r.lastError = "Resent by you; waiting to send.";
      store.put(r).then(function () { sendNow(true); refresh(); });
    });
    var why = document.createElement("input");
    why.id = "discard-" + r.id;
    var whyLabel = text("label", "Reason for discarding");
    whyLabel.htmlFor = why.id;
    var discard = text("button", "Discard");
    discard.type = "button";
    var problem = text("p", "", "error");
    discard.addEventListener("click", function () {
      if (why.value.trim().length < 3) {
        problem.textContent = "Type why this record should be discarded.";
        why.setAttribute("aria-invalid", "true");
        return why.focus();
      }
      delete form.dataset.editing;
      store.add({user: me, description: r.description, recordedAt: r.recordedAt, uuid: r.uuid, body: r.body,
                 serverReason: r.lastError, reason: why.value.trim(), at: new Date().toISOString()}, "discarded")
        .then(function () { return store.remove(r.id); }).then(refresh);
    });
    form.append(resend, whyLabel, why, problem, discard);
    return form;
  }

  function phonePanel(records) {
    $("phone-outbox").textContent = records.length + " (" +
      Math.ceil(records.reduce(function (n, r) { return n + r.body.length; }, 0) / 1024) + " KB)";
    var warn = [];
    var storage = navigator.storage || {};
    Promise.all([storage.persisted ? storage.persisted() : false,
                 storage.estimate ? storage.estimate() : null]).then(function (found) {
      $("phone-persist").textContent = found[0] ? "Yes: the browser will not clear it to free space" :
        "Not granted: the browser may clear saved pages when space runs short";
      if (!found[0]) warn.push("Install the app on the home screen so the browser keeps its data.");
      var e = found[1];
      if (e) {
        var mb = function (n) { return (n / 1048576).toFixed(1) + " MB"; };
        $("phone-usage").textContent = mb(e.usage) + " of " + mb(e.quota) + " available to the app";
        if (e.quota - e.usage < 50 * 1048576) warn.push("The phone is short of space: free some before going out.");
      }
      $("phone-warning").hidden = !warn.length;
      $("phone-warning").textContent = warn.join(" ");
    });
  }

  function download() {
    store.mine(me).then(function (records) {
      var blob = new Blob([JSON.stringify({exported_at: new Date().toISOString(), user_id: me, records: records},
        null, 2)], {type: "application/json"});
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "outreach-unsent-" + new Date().toISOString().slice(0, 10) + ".json";
      document.body.append(link);
      link.click();
      link.remove();
    });
  }

  start();
  readyLines();
})();
