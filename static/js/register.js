// The register of a group session (loaded on every page, acts only where #register is): what this phone
// marked or registered and has not yet sent is shown on the register, on top of the server's state (the
// offline contract, as a walk list shows its pending visits); typing a name narrows the lists, with no signal
// too; "Make ready offline" (here and on What's on) saves the pages it names through the service worker.
(function () {
  "use strict";
  if (!self.OutreachStore || !self.OutreachContract) return;
  var store = self.OutreachStore;
  var me = document.body.dataset.userId;
  var pendingBefore = 0;

  function register() { return document.getElementById("register"); }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function pathOf(url) { return new URL(url, location.href).pathname; }

  // The outbox's records for this register: marks by person, and walk-ins by name.
  function waiting(section) {
    return store.mine(me).then(function (records) {
      var marks = {}, walkIns = [];
      records.forEach(function (record) {
        var fields = new URLSearchParams(record.body), path = pathOf(record.url);
        if (path === section.dataset.attendanceUrl) marks[fields.get("participant_id")] = record;
        else if (path === section.dataset.walkInUrl) {
          walkIns.push({name: fields.get("first_name") + " " + fields.get("last_name"), record: record});
        }
      });
      return {marks: marks, walkIns: walkIns};
    });
  }

  function draw() {
    var section = register();
    if (!section || !me) return;
    waiting(section).then(function (found) {
      var here = {}, pending = 0;
      section.querySelectorAll("#register-here [data-person]").forEach(function (li) { here[li.dataset.person] = true; });
      section.querySelectorAll(".mark").forEach(function (form) {
        var li = form.closest("[data-person]"), record = found.marks[li.dataset.person];
        li.classList.toggle("pending", !!record);
        var tag = li.querySelector(".pending-tag");
        if (record && !tag) {
          tag = el("span", "", "pending-tag");
          form.querySelector(".who-came").after(tag);
        }
        if (tag && !record) tag.remove();
        if (record) tag.textContent = record.state === "needs_attention" ? "Not sent: see Waiting to send" :
          "Here: saved on this phone, will send";
        form.querySelector("button[name=mark]").hidden = !!record;
      });
      Object.keys(found.marks).forEach(function (id) { if (!here[id]) pending += 1; });
      var list = document.getElementById("register-pending");
      list.textContent = "";
      found.walkIns.forEach(function (w) {
        var li = el("li", "", "person here pending");
        li.append(el("span", w.name, "who-came"), el("span", "Walk-in", "flag"),
                  el("span", w.record.state === "needs_attention" ? "Not sent: see Waiting to send" :
                     "Saved on this phone, will send", "pending-tag"));
        list.append(li);
      });
      list.hidden = !found.walkIns.length;
      pending += found.walkIns.length;
      var count = document.getElementById("register-count");
      var sent = Number(section.dataset.here || 0);
      count.textContent = "";
      count.append(el("strong", String(sent + pending)), document.createTextNode(" here" +
        (pending ? " (" + pending + " saved on this phone, not yet sent)" : "")));
      var nobody = document.getElementById("nobody-yet");
      if (nobody) nobody.hidden = sent + pending > 0;
      // Records sent since the last look: the server's register now holds them, so draw it from the server.
      if (pending < pendingBefore && navigator.onLine && window.htmx) {
        htmx.ajax("GET", location.pathname, {target: "#register", select: "#register", swap: "outerHTML"});
      }
      pendingBefore = pending;
    });
  }

  // Typing a name narrows the people listed (with no signal too): "Search everyone" asks the server.
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-register-filter]")) return;
    var words = box.value.trim().toLowerCase();
    register().querySelectorAll("#register-regulars [data-person], #register-here [data-person]").forEach(function (li) {
      li.hidden = !!words && li.dataset.name.indexOf(words) < 0;
    });
  });

  function readyLine(button, text) {
    var line = document.getElementById(button.dataset.line || "register-ready");
    if (line) line.textContent = text;
  }

  // Saved through the worker (X-Outreach-Save), which stamps each page whose and when, as it does a walk list.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-register-ready]");
    if (!button) return;
    var urls = JSON.parse(button.dataset.urls);
    button.disabled = true;
    readyLine(button, "Saving for use with no signal…");
    Promise.all(urls.map(function (url) {
      return fetch(url, {headers: {"X-Outreach-Save": "1"}, credentials: "same-origin"})
        .then(function (r) { return r.status === 204; }, function () { return false; });
    })).then(function (saved) {
      button.disabled = false;
      var ok = saved.filter(Boolean).length;
      readyLine(button, ok === urls.length ? "Ready offline: " + button.dataset.what + ", saved " +
        new Date().toLocaleTimeString("en-GB", {hour: "2-digit", minute: "2-digit"}) + "." :
        "Not ready offline: " + (urls.length - ok) + " of " + urls.length + " pages could not be saved. Try again with signal.");
    });
  });

  document.addEventListener("outreach:outbox", draw);
  document.addEventListener("htmx:afterSettle", draw);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
