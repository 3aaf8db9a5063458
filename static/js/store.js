// The phone's own records in IndexedDB, shared by the pages and the service worker (importScripts),
// both of which load contract.js first.
// A dozen lines instead of a library: every promise resolves only when its transaction has completed,
// so "saved" means on disk (write-ahead), not merely queued.
(function (g) {
  "use strict";
  var opening = null;

  function open() {
    if (!opening) opening = new Promise(function (resolve, reject) {
      var req = indexedDB.open("outreach", 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        // The key is the order of recording on this phone: replay goes in that order.
        db.createObjectStore("outbox", {keyPath: "id", autoIncrement: true})
          .createIndex("uuid", "uuid", {unique: true});
        db.createObjectStore("ready", {keyPath: "key"});        // estates made ready offline, and when
        db.createObjectStore("discarded", {keyPath: "id", autoIncrement: true});  // never silently
        db.createObjectStore("meta", {keyPath: "key"});
      };
      req.onsuccess = function () {
        var db = req.result;
        db.onversionchange = function () { db.close(); opening = null; };
        resolve(db);
      };
      req.onerror = function () { opening = null; reject(req.error); };
    });
    return opening;
  }

  function run(name, mode, work, durability) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        // Strict durability: the outbox must survive the phone dying a moment after "saved".
        var tx = db.transaction(name, mode, {durability: durability || "strict"});
        var req = work(tx.objectStore(name));
        tx.oncomplete = function () { resolve(req ? req.result : undefined); };
        tx.onerror = tx.onabort = function () { reject(tx.error || (req && req.error)); };
      });
    });
  }

  g.OutreachStore = {
    PAGES: "outreach-pages",  // not versioned: pages made ready offline outlive a new service worker
    all: function (name) { return run(name || "outbox", "readonly", function (s) { return s.getAll(); }); },
    get: function (key, name) { return run(name || "outbox", "readonly", function (s) { return s.get(key); }); },
    byUuid: function (uuid) {
      return run("outbox", "readonly", function (s) { return s.index("uuid").get(uuid); });
    },
    add: function (record, name) { return run(name || "outbox", "readwrite", function (s) { return s.add(record); }); },
    put: function (record, name) { return run(name || "outbox", "readwrite", function (s) { return s.put(record); }); },
    // For what the phone can fetch again (what "Make ready offline" saved and when): no wait for the disk,
    // which took up to a second a write on a busy phone; only a power cut at that moment could lose it.
    putRelaxed: function (record, name) {
      return run(name, "readwrite", function (s) { return s.put(record); }, "relaxed");
    },
    remove: function (key, name) { return run(name || "outbox", "readwrite", function (s) { return s.delete(key); }); },
    clear: function (name) { return run(name, "readwrite", function (s) { return s.clear(); }); },
    meta: function (key, value) {
      if (arguments.length < 2) return run("meta", "readonly", function (s) { return s.get(key); })
        .then(function (row) { return row ? row.value : null; });
      return run("meta", "readwrite", function (s) { return s.put({key: key, value: value}); });
    },
    mine: function (userId) {
      return this.all().then(function (rows) {
        return rows.filter(function (r) { return g.OutreachContract.madeBy(r, userId); });
      });
    }
  };
})(self);
