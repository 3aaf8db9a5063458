// "Make ready offline": save an estate's (or a worker's assignments') pages on this phone, and say how ready
// the phone is. The list pages (walk list, revisits, outbox) are fetched through the worker one by one; the
// doors come in packs (outreach/pwa/pack.py), a few requests for a whole estate, and only the doors whose
// version the phone lacks: a refresh fetches what changed, and a press after the signal dropped carries on.
// The progress bar counts doors. The ready line counts the doors saved on the phone now, so it never says
// more than the walk list shows.
(function () {
  "use strict";
  if (!self.OutreachOffline) return;
  var offline = self.OutreachOffline, contract = self.OutreachContract, store = self.OutreachStore;
  var me = offline.me;
  var plural = function (n, word) { return n.toLocaleString("en-GB") + " " + word + (n === 1 ? "" : "s"); };
  var absolute = function (path) { return new URL(path, location.href).href; };

  // The door pages saved on this phone, by URL, with their versions (only this user's).
  function savedDoors() {
    return caches.open(store.PAGES).then(function (cache) {
      return cache.keys().then(function (keys) {
        var doors = keys.filter(function (k) { return contract.doorPageOf(k.url); });
        return Promise.all(doors.map(function (k) { return cache.match(k); })).then(function (hits) {
          var saved = {};
          hits.forEach(function (hit, i) {
            if (hit && hit.headers.get("X-Outreach-User") === String(me)) {
              saved[doors[i].url] = hit.headers.get("X-Outreach-Version") || "";
            }
          });
          return saved;
        });
      });
    });
  }

  function showReady(section) {
    return store.get(section.dataset.ready + ":" + me, "ready").then(function (ready) {
      if (!ready) return;
      return savedDoors().then(function (saved) {
        var have = (ready.doorIds || []).filter(function (id) { return absolute(contract.doorUrl(id)) in saved; });
        var line = section.querySelector(".ready-line");
        var when = contract.when(ready.at);
        if (have.length === ready.doors) {
          line.textContent = (ready.changed !== undefined ? "Updated: " + plural(ready.changed, "door") +
            " changed. " : "") + "Ready offline: " + plural(ready.doors, "door") + ", updated " + when + ".";
        } else {
          line.textContent = "Partly ready offline: " + have.length.toLocaleString("en-GB") + " of " +
            plural(ready.doors, "door") + " saved on this phone (" + when + "). Press the button to save the rest.";
        }
      });
    });
  }

  // A pack's doors, saved by the worker as they arrive: resolves with how many came, rejects if cut off.
  function fetchPack(url, onDoor) {
    return fetch(url, {headers: {"X-Outreach-Pack": "1"}, credentials: "same-origin"}).then(function (response) {
      if (!response.ok || !response.body) throw new Error("pack " + response.status);
      var reader = response.body.getReader(), decoder = new TextDecoder(), rest = "", finished = false;
      function read() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            if (!finished) throw new Error("pack cut off");
            return;
          }
          var lines = (rest + decoder.decode(chunk.value, {stream: true})).split("\n");
          rest = lines.pop();
          lines.forEach(function (line) {
            if (line === "done") finished = true;
            else onDoor(line);
          });
          return read();
        });
      }
      return read();
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
    var key = section.dataset.ready + ":" + me, total = 0, done = 0, before = null, list = null;
    button.disabled = true;
    line.textContent = "Making ready offline…";
    Promise.all([
      fetch(section.dataset.readyUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        }),
      store.get(key, "ready"), savedDoors()
    ]).then(function (found) {
      list = found[0];
      before = found[1];
      var saved = found[2];
      // The list pages are few and summarise every door: always fetched afresh.
      var pages = Promise.all(list.pages.map(function (url) {
        return fetch(url, {headers: {"X-Outreach-Save": "1"}, credentials: "same-origin"}).then(function (r) {
          if (r.status !== 204) throw new Error("page " + r.status);
        });
      }));
      // Only the doors this phone lacks, or holds at an older version.
      var wanted = list.packs.map(function (pack) {
        return {url: pack.pack, ids: pack.doors.filter(function (d) {
          return saved[absolute(contract.doorUrl(d[0]))] !== d[1];
        }).map(function (d) { return d[0]; })};
      });
      total = list.doors;
      var need = wanted.reduce(function (n, p) { return n + p.ids.length; }, 0);
      done = total - need;
      bar.max = Math.max(total, 1);
      bar.value = done;
      bar.hidden = false;
      line.textContent = "Saving " + plural(need, "door") + "…";
      var doors = wanted.reduce(function (chain, pack) {
        for (var i = 0; i < pack.ids.length; i += list.pack_doors_max) {
          (function (ids) {
            chain = chain.then(function () {
              return fetchPack(pack.url + "?doors=" + ids.join(","), function () {
                bar.value = ++done;
                line.textContent = "Saved " + done.toLocaleString("en-GB") + " of " + plural(total, "door") + "…";
              });
            });
          })(pack.ids.slice(i, i + list.pack_doors_max));
        }
        return chain;
      }, Promise.resolve());
      return Promise.all([pages, doors]).then(function () {
        var doorIds = [];
        list.packs.forEach(function (pack) { pack.doors.forEach(function (d) { doorIds.push(d[0]); }); });
        return store.put({key: key, user: me, doors: total, doorIds: doorIds, at: new Date().toISOString(),
                          changed: before ? need : undefined}, "ready");
      });
    }).then(function () {
      return showReady(section);
    }, function () {
      if (!list) {
        line.textContent = "Could not make this ready offline: no signal. Try again where there is.";
        return;
      }
      // Counted on the phone: the last doors saved may not have reached the progress bar.
      return savedDoors().then(function (saved) {
        var have = 0;
        list.packs.forEach(function (pack) {
          pack.doors.forEach(function (d) { if (saved[absolute(contract.doorUrl(d[0]))] === d[1]) have++; });
        });
        line.textContent = "The signal dropped: " + have.toLocaleString("en-GB") + " of " + plural(total, "door") +
          " are saved. Press again to carry on; what is saved is not fetched again.";
      });
    }).then(function () {
      bar.hidden = true;
      button.disabled = false;
    });
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
