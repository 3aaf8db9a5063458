// Waiting to send (/outbox), loaded only on that page: every record on this phone not yet on the server,
// its state and the server's reason; fix and resend, or discard with a reason (nothing leaves silently);
// Send now, Download unsent records, and the This phone panel.
// A boosted visit to the page runs this script again: the listeners are added once, the page is drawn each time.
(function () {
  "use strict";
  if (!self.OutreachOffline) return;
  if (self.OutreachOutboxPage) return self.OutreachOutboxPage.draw();
  var offline = self.OutreachOffline, contract = self.OutreachContract, store = self.OutreachStore;
  var me = offline.me, el = offline.el, when = contract.when;
  var $ = function (id) { return document.getElementById(id); };
  var HIDDEN_FIELDS = ["csrf_token", "from"].concat(contract.RECORD_FIELDS);

  function draw() {
    if (!me || !$("outbox")) return;
    store.mine(me).then(drawOutbox);
  }

  function drawOutbox(records) {
    var list = $("outbox-list");
    if (!list || list.querySelector("[data-editing]")) return;  // don't redraw under the worker's fingers
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
    offline.mine("discarded").then(function (rows) {
      $("discarded-list").textContent = "";
      rows.forEach(function (d) {
        $("discarded-list").append(el("li", d.description + " (recorded " + when(d.recordedAt) +
          "): discarded " + when(d.at) + ", because: " + d.reason));
      });
    });
  }

  function drawRecord(r) {
    var item = document.createElement("li");
    item.className = "outbox-item state-" + r.state;
    item.append(el("strong", r.description), el("span", "Recorded " + when(r.recordedAt)),
      el("span", offline.stateOf(r), "outbox-state"));
    if (r.lastError) item.append(el("span", r.lastError, r.state === "needs_attention" ? "error" : "reason"));
    if (keepsFailing(r)) {
      item.classList.add("keeps-failing");
      item.append(el("span", "Keeps failing: tried " + r.attempts + " times; the server said: " +
        (r.serverReason || "no reason given") + ". It stays here and is tried again; tell your manager if " +
        "it goes on.", "error"));
    }
    if (r.state === "needs_attention") item.append(fixForm(r));
    return item;
  }

  // A record the server keeps failing on (5xx) is never dropped, but after a number of tries (a setting,
  // on the page) it is said to be stuck, with the server's reason, rather than waiting quietly for ever.
  function keepsFailing(r) {
    var after = Number($("outbox").dataset.failingAfter || 5);
    return r.state !== "needs_attention" && r.lastStatus >= 500 && r.attempts >= after;
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
          var option = el("option", outcomes[code]);
          option.value = code;
          input.append(option);
        });
      } else {
        input = document.createElement(name === "notes" ? "textarea" : "input");
      }
      input.id = id;
      input.value = value;
      var label = el("label", name === "outcome" ? "What happened at the door" : name.replace(/_/g, " "));
      label.htmlFor = id;
      form.append(label, input);
      inputs[name] = input;
    });
    form.addEventListener("input", function () { form.dataset.editing = "1"; });
    var resend = el("button", "Resend");
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
      store.put(r).then(function () { offline.sendNow(true); offline.changed(); });
    });
    var why = document.createElement("input");
    why.id = "discard-" + r.id;
    var whyLabel = el("label", "Reason for discarding");
    whyLabel.htmlFor = why.id;
    var discard = el("button", "Discard");
    discard.type = "button";
    var problem = el("p", "", "error");
    discard.addEventListener("click", function () {
      if (why.value.trim().length < 3) {
        problem.textContent = "Type why this record should be discarded.";
        why.setAttribute("aria-invalid", "true");
        return why.focus();
      }
      delete form.dataset.editing;
      store.add({user: me, description: r.description, recordedAt: r.recordedAt, uuid: r.uuid, body: r.body,
                 serverReason: r.lastError, reason: why.value.trim(), at: new Date().toISOString()}, "discarded")
        .then(function () { return store.remove(r.id); }).then(function () { offline.changed(); });
    });
    form.append(resend, whyLabel, why, problem, discard);
    return form;
  }

  function phonePanel(records) {
    $("phone-outbox").textContent = records.length + " (" +
      Math.ceil(records.reduce(function (n, r) { return n + r.body.length; }, 0) / 1024) + " KB)";
    var warn = [];
    var storage = navigator.storage || {};
    // Which version of the app the phone runs, as its worker says: what support asks first.
    var channel = new MessageChannel();
    channel.port1.onmessage = function (event) { $("phone-version").textContent = event.data; };
    offline.ask({type: "version"}, [channel.port2]);
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

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-send-now],[data-download]");
    if (!target || !$("outbox")) return;
    if (target.hasAttribute("data-send-now")) offline.sendNow(true);
    else download();
  });
  document.addEventListener("outreach:outbox", function (event) {
    var bar = $("outbox-progress"), news = event.detail;
    if (bar && news.type === "outbox") {
      bar.hidden = !news.progress;
      if (news.progress) { bar.max = news.progress.of; bar.value = news.progress.done; }
    }
    draw();
  });
  document.addEventListener("htmx:afterSettle", draw);

  self.OutreachOutboxPage = {draw: draw};
  draw();
})();
