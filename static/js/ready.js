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

  // The doors saved on this phone, with the version each was saved at: {door id: version} ("" for a door saved
  // by opening its page, whose version is unknown). The versions are the page's own note of what the packs
  // brought (one row of the "ready" store a user, written as each press ends); a door counts only while its
  // page is in the cache, which holds the signed-in user's pages alone (the worker forgets the others'). One
  // cache.keys() and one read: a cache.match per door took seconds, twice a refresh, on a slow phone.
  var NOTED = "doors:" + me;
  function savedDoors() {
    return Promise.all([caches.open(store.PAGES).then(function (cache) { return cache.keys(); }),
                        store.get(NOTED, "ready")]).then(function (found) {
      var noted = (found[1] && found[1].versions) || {}, saved = {};
      found[0].forEach(function (request) {
        var door = contract.doorPageOf(request.url);
        if (door) saved[door] = noted[door] || "";
      });
      return saved;
    });
  }

  function noteSaved(saved) {
    return store.putRelaxed({key: NOTED, user: me, versions: saved}, "ready");
  }

  // `saved`: what a press that just ended knows it saved (savedDoors otherwise).
  function showReady(section, saved) {
    return store.get(section.dataset.ready + ":" + me, "ready").then(function (ready) {
      if (!ready) return;
      return (saved ? Promise.resolve(saved) : savedDoors()).then(function (saved) {
        var have = (ready.doorIds || []).filter(function (id) { return id in saved; });
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
    var key = section.dataset.ready + ":" + me, total = 0, done = 0, before = null, list = null, saved = null;
    button.disabled = true;
    line.textContent = "Making ready offline…";
    var pages;
    Promise.all([
      fetch(section.dataset.readyUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        }).then(function (found) {
          // The list pages are few and summarise every door: always fetched afresh, and asked for at once
          // (the walk list is the slowest page to make), while the phone still reads what it holds.
          pages = Promise.all(found.pages.map(function (url) {
            return fetch(url, {headers: {"X-Outreach-Save": "1"}, credentials: "same-origin"}).then(function (r) {
              if (r.status !== 204) throw new Error("page " + r.status);
            });
          }));
          pages.catch(function () {});  // reported once the press settles (a failure of the rest may come first)
          return found;
        }),
      store.get(key, "ready"), savedDoors()
    ]).then(function (found) {
      list = found[0];
      before = found[1];
      saved = found[2];
      // Only the doors this phone lacks, or holds at an older version.
      var version = {};
      var wanted = list.packs.map(function (pack) {
        pack.doors.forEach(function (d) { version[d[0]] = d[1]; });
        return {url: pack.pack, ids: pack.doors.filter(function (d) {
          return saved[d[0]] !== d[1];
        }).map(function (d) { return d[0]; })};
      });
      total = list.doors;
      var need = wanted.reduce(function (n, p) { return n + p.ids.length; }, 0);
      done = total - need;
      bar.max = Math.max(total, 1);
      bar.value = done;
      bar.hidden = false;
      line.textContent = "Saving " + plural(need, "door") + "…";
      // The packs, two in flight: the server renders the next while this one streams and is saved, so its
      // rendering, the network and the saving overlap. A pack that fails stops its lane; the other finishes
      // its pack, then the press ends and reports what is saved (the next press asks only for the rest).
      var queue = [];
      wanted.forEach(function (pack) {
        for (var i = 0; i < pack.ids.length; i += list.pack_doors_max) {
          queue.push(pack.url + "?doors=" + pack.ids.slice(i, i + list.pack_doors_max).join(","));
        }
      });
      var failed = null, shown = false, saving = true;
      var progress = function () {  // at most once a frame: each door arriving must not lay the page out again
        if (shown) return;
        shown = true;
        requestAnimationFrame(function () {
          shown = false;
          if (!saving) return;  // the press has ended and said so: a late frame must not say "Saved…" over it
          bar.value = done;
          line.textContent = "Saved " + done.toLocaleString("en-GB") + " of " + plural(total, "door") + "…";
        });
      };
      var arrived = function (door) {  // the worker answers a door's id once all its pages are saved
        saved[door] = version[door];
        done++;
        progress();
      };
      var lane = function () {
        var url = !failed && queue.shift();
        if (!url) return Promise.resolve();
        // Noted pack by pack, so a page closed half-way does not cost the next press what it saved; not waited
        // for (the writes keep their order, and the press ends with one more).
        return fetchPack(url, arrived).then(function () { noteSaved(saved).catch(function () {}); })
          .then(lane, function (error) { failed = error; });
      };
      var doors = Promise.all([lane(), lane()]);
      // Settled both before the press says how it went: a list page that failed first must not leave the
      // lanes saying "Saved…" over the report.
      var outcome = function (promise) { return promise.then(function () { return null; }, function (e) { return e; }); };
      return Promise.all([outcome(pages), doors]).then(function (settled) {
        saving = false;
        // What came is noted even when the signal dropped: the next press asks only for the rest.
        var noted = noteSaved(saved);
        if (settled[0] || failed) return noted.then(function () { throw settled[0] || failed; });
        var doorIds = [];
        list.packs.forEach(function (pack) { pack.doors.forEach(function (d) { doorIds.push(d[0]); }); });
        return Promise.all([noted, store.putRelaxed({key: key, user: me, doors: total, doorIds: doorIds,
                                                     at: new Date().toISOString(),
                                                     changed: before ? need : undefined}, "ready")]);
      });
    }).then(function () {
      return showReady(section, saved);
    }, function () {
      if (!list) {
        line.textContent = "Could not make this ready offline: no signal. Try again where there is.";
        return;
      }
      // Counted from what the worker said it saved: the last doors may not have reached the progress bar.
      var have = 0;
      list.packs.forEach(function (pack) {
        pack.doors.forEach(function (d) { if (saved[d[0]] === d[1]) have++; });
      });
      line.textContent = "The signal dropped: " + have.toLocaleString("en-GB") + " of " + plural(total, "door") +
        " are saved. Press again to carry on; what is saved is not fetched again.";
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
    if (me) document.querySelectorAll("[data-ready]").forEach(function (section) { showReady(section); });
  }
  document.addEventListener("htmx:load", readyLines);
  readyLines();
})();
