// Sign-out on a shared phone: refused while this user's records are on the phone (they would be sent by
// nobody); a clean one wipes their saved pages and traces, so the next person finds nothing of theirs.
(function () {
  "use strict";
  if (!self.OutreachOffline) return;
  var offline = self.OutreachOffline, store = self.OutreachStore;
  var $ = function (id) { return document.getElementById(id); };

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-signout") || form.dataset.cleared) return;
    event.preventDefault();
    store.mine(offline.me).then(function (records) {
      if (records.length) {
        var banner = $("network-banner");
        banner.textContent = "";
        banner.append(records.length + (records.length === 1 ? " record is" : " records are") +
          " on this phone and not yet on the server, so you can't sign out yet. ");
        var link = offline.el("a", "Send them first");
        link.href = $("outbox-link").href;
        banner.append(link);
        banner.hidden = false;
        offline.sendNow(true);
        return;
      }
      return forget().then(function () {
        form.dataset.cleared = "1";
        form.submit();
      });
    });
  }, true);

  function forget() {
    var remove = function (name) {
      return offline.mine(name).then(function (rows) {
        return Promise.all(rows.map(function (r) { return store.remove(r.key !== undefined ? r.key : r.id, name); }));
      });
    };
    return Promise.all([caches.delete(store.PAGES), remove("ready"), remove("discarded"), store.meta("user", null)])
      .then(function () { return offline.ask({type: "signed-out"}); }).catch(function () {});
  }
})();
