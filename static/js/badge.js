// The "N to send" badge, and what is waiting on this phone shown on the walk list and the door, on top
// of the server's (perhaps saved) page; the sign-in banner when the worker says a sign-in has expired.
(function () {
  "use strict";
  if (!self.OutreachOffline) return;
  var offline = self.OutreachOffline, contract = self.OutreachContract, store = self.OutreachStore;
  var $ = function (id) { return document.getElementById(id); };

  // Recording a door brings three calls at once (the worker's news as it keeps the record and as it sends it,
  // then the card put in place): the phone is read once for them all, after the tap has been answered on screen.
  var soon = null;
  function refresh() {
    if (!offline.me || soon) return;
    soon = setTimeout(draw, 150);
  }
  function draw() {
    soon = null;
    store.mine(offline.me).then(function (records) {
      var link = $("outbox-link");
      if (link) {
        $("outbox-count").textContent = records.length;
        link.classList.toggle("has-records", records.length > 0);
        link.classList.remove("uncounted");  // only once counted: a "0" before the phone is read would be a lie
      }
      overlay(records);
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
        var tag = offline.el("span", "On phone: " + what + " · ", "pending");
        tag.dataset.pending = "";
        link.querySelector(".status").prepend(tag);
      }
      document.querySelectorAll('#door[data-property-id="' + door + '"] .history').forEach(function (list) {
        var item = document.createElement("li");
        item.className = "pending";
        item.dataset.pending = "";
        item.append(offline.el("strong", what), offline.el("span", contract.when(r.recordedAt) + " · " +
          offline.stateOf(r).toLowerCase() + " on this phone, not yet on the server"));
        list.prepend(item);
      });
    });
  }

  document.addEventListener("outreach:outbox", function (event) {
    var news = event.detail;
    var banner = $("signin-banner");
    if (banner && news.type === "outbox") banner.hidden = !news.signin || location.pathname === contract.urls.login;
    refresh();
  });
  document.addEventListener("htmx:afterSettle", refresh);
  document.addEventListener("outreach:recorded", refresh);
  draw();
})();
