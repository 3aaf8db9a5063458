// Outreach service worker, version {{ version }} (the server computes it from every static file).
// Hand-written on purpose: no library queue, because ours must never drop a record (see the outbox below).
"use strict";
// At the top level: importScripts is only allowed while the worker installs. The version changes
// whenever an imported script does, and each import's URL carries it, so a new worker gets the new copy.
importScripts({{ imports|map("tojson")|join(", ") }});

var VERSION = {{ version|tojson }};
var STATIC = "outreach-static-" + VERSION;   // versioned: replaced wholesale by a new worker
var PAGES = self.OutreachStore.PAGES;       // not versioned: pages made ready offline survive updates
var PRECACHE = {{ precache|tojson }};
var URLS = {{ urls|tojson }};  // every URL the worker uses, from the server's url_for
var LIMITS = {{ limits|tojson }};  // how long saved pages and discarded records are kept (the settings)
var DAY = 86400000;
var contract = self.OutreachContract;
contract.use(URLS);
var MARKERS = contract.MARKERS;
var PAGE_TIMEOUT = 3500;     // a stairwell with one bar: show the saved copy rather than a spinner
var SEND_TIMEOUT = 15000;    // a request that hangs mid-send must not hold the outbox
var MAX_BACKOFF = 300000;    // 5 minutes
var store = self.OutreachStore;
var currentUser = null;      // whose pages may be shown: learnt from the server's X-Outreach-User header

// ---- install / activate ----------------------------------------------------------------------------

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC).then(function (cache) {
    return cache.addAll(PRECACHE.map(function (url) { return new Request(url, {cache: "reload"}); }));
  }).then(function () {
    // The very first worker takes over at once; an update waits until no form is half-filled
    // (the page says so with "skip-waiting") or until the next start of the app.
    if (!self.registration.active) return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    // Only old static caches go: the outbox (IndexedDB) and the saved pages stay.
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("outreach-static-") === 0 && key !== STATIC;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () {
    // Not awaited: pages' requests wait for activation to finish, and a replay can take a while.
    replay(true);
    tidy();
    return self.clients.claim();
  }));
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "skip-waiting") self.skipWaiting();
  else if (data.type === "replay") event.waitUntil(replay(!!data.force));
  else if (data.type === "signed-out") {
    // The page has emptied the saved pages; a page the worker was saving meanwhile (a door refreshed after a
    // replay) goes too, so the next user finds nothing.
    currentUser = null;
    signOuts++;
    event.waitUntil(forgetPages(null));
  }
  else if (data.type === "status") event.waitUntil(tell({}));
  else if (data.type === "version" && event.ports[0]) event.ports[0].postMessage(VERSION);  // "This phone" panel
});

// Background Sync where the browser has it (Chromium); pages trigger replay too, since Safari and
// Firefox have none and a server that was down (not the phone) never fires "online".
self.addEventListener("sync", function (event) {
  if (event.tag === "outbox") event.waitUntil(replay(true));
});

// ---- routing ---------------------------------------------------------------------------------------

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST") {
    event.respondWith(post(request, event));
    return;
  }
  if (request.method !== "GET" || url.pathname === URLS.worker || url.pathname === URLS.session) return;
  if (request.headers.get("X-Outreach-Save")) return event.respondWith(saveForLater(request));
  if (request.headers.get("X-Outreach-Pack")) return event.respondWith(savePack(request));
  if (url.pathname.indexOf(URLS.static) === 0) return event.respondWith(fromStatic(request));
  var htmx = request.headers.get("HX-Request") === "true";
  var boosted = request.headers.get("HX-Boosted") === "true";
  if (request.mode === "navigate" || boosted) event.respondWith(page(event, true));
  else if (htmx) event.respondWith(page(event, false));
});

function fromStatic(request) {
  return caches.open(STATIC).then(function (cache) {
    return cache.match(request, {ignoreSearch: true}).then(function (hit) { return hit || fetch(request); });
  });
}

// One cache entry per page whatever asked for it: "?from=walk" only changes a fragment's form.
function pageKey(href) {
  var url = new URL(href);
  url.searchParams.delete("from");
  url.hash = "";
  return url.href;
}

// A fetch given up after ms (an AbortError); its timer is cleared however the fetch ends.
function fetchWithin(ms, input, init) {
  var controller = new AbortController();
  var timer = setTimeout(function () { controller.abort(); }, ms);
  return fetch(input, Object.assign({}, init, {signal: controller.signal})).then(function (response) {
    clearTimeout(timer);
    return response;
  }, function (error) {
    clearTimeout(timer);
    throw error;
  });
}

// Who the server says is signed in, from every answer. A page of another user, or a refusal for want
// of a sign-in (401, or the sign-in page instead of the page asked for), ends the previous user's
// sign-in on this phone: their saved pages go at once. Never the outbox: its records wait for their author.
function learnUser(response) {
  var user = response.headers.get("X-Outreach-User");
  if (user && user !== currentUser) {
    currentUser = user;
    return Promise.all([store.meta("user", user), forgetPages(user)]);
  }
  if (!user && signedOut(response)) return signedOutNow();
}

function signedOut(response) {
  return response.status === 401 || (response.redirected && new URL(response.url).pathname === URLS.login);
}

function signedOutNow() {
  currentUser = null;
  return Promise.all([store.meta("user", null), forgetPages(null)]);
}

// Removes every saved page but those of `keep` (a user id; null keeps none) and those too old to show.
function forgetPages(keep) {
  return caches.open(PAGES).then(function (cache) {
    return cache.keys().then(function (keys) {
      return Promise.all(keys.map(function (key) {
        return cache.match(key).then(function (hit) {
          if (!hit || hit.headers.get("X-Outreach-User") !== keep || tooOld(hit)) return cache.delete(key);
        });
      }));
    });
  }).catch(function () {});
}

// Past the days pages are kept, or past the page's own time (a register, which lists names: the server says when).
function tooOld(saved) {
  var at = Date.parse(saved.headers.get("X-Outreach-Saved"));
  var until = Date.parse(saved.headers.get("X-Outreach-Keep-Until") || "");
  if (until < Date.now()) return true;
  return !(at > Date.now() - LIMITS.pagesMaxDays * DAY);
}

// What the phone keeps only for a while: pages past their age, records discarded long enough ago.
function tidy() {
  return knownUser().then(function (user) {
    if (user) forgetPages(user);
    return store.all("discarded");
  }).then(function (rows) {
    var before = Date.now() - LIMITS.discardedKeepDays * DAY;
    return Promise.all(rows.filter(function (row) { return Date.parse(row.at) < before; })
      .map(function (row) { return store.remove(row.id, "discarded"); }));
  }).catch(function () {});
}

// Whether the server lets this phone keep the page: it says so per page, in one place (outreach/headers.py),
// with Cache-Control: no-store on every page with personal data. The worker keeps no list of its own.
function mayKeep(response) {
  return !/no-store/i.test(response.headers.get("Cache-Control") || "");
}

function isPage(response) {
  return response.ok && !response.redirected &&
    (response.headers.get("Content-Type") || "").indexOf("text/html") === 0 &&
    response.headers.get("X-Outreach-User") && mayKeep(response);
}

// Saved without Vary (the key is the URL; only full pages are saved) and stamped with when and whose.
function save(key, response) {
  return response.text().then(function (body) {
    var headers = new Headers(response.headers);
    headers.delete("Vary");
    // The body is kept as text, decoded: what the network sent it compressed as no longer applies.
    headers.delete("Content-Encoding");
    headers.delete("Content-Length");
    headers.set("X-Outreach-Saved", new Date().toISOString());
    return caches.open(PAGES).then(function (cache) {
      return cache.put(key, new Response(body, {status: 200, headers: headers}));
    });
  });
}

function knownUser() {
  return currentUser ? Promise.resolve(currentUser) : store.meta("user").then(function (user) {
    currentUser = currentUser || user;
    return currentUser;
  });
}

// A saved page, only ever shown to the user who saved it.
function rawSaved(key) {
  return Promise.all([caches.open(PAGES).then(function (c) { return c.match(key); }), knownUser()])
    .then(function (found) {
      var hit = found[0];
      if (hit && tooOld(hit)) return caches.open(PAGES).then(function (c) { c.delete(key); return null; });
      return hit && found[1] && hit.headers.get("X-Outreach-User") === String(found[1]) ? hit : null;
    });
}

// ... marked with when it was saved.
function savedPage(key, full) {
  return rawSaved(key).then(function (hit) {
    if (!hit) return null;
    var saved = new Date(hit.headers.get("X-Outreach-Saved"));
    var note = '<p class="stale" role="note" data-saved-at="' + saved.toISOString() + '">Saved on this phone ' +
      contract.when(saved) + ": it may be out of date.</p>";
    return hit.text().then(function (body) {
      body = full ? body.replace(MARKERS.main, MARKERS.main + note) : body.replace(MARKERS.doorMessage, note);
      var headers = new Headers(hit.headers);
      headers.set("Content-Type", "text/html; charset=utf-8");
      return new Response(body, {status: 200, headers: headers});
    });
  });
}

// What `promise` gives within PAGE_TIMEOUT, else "slow" (it goes on): the page's answer and a record's send wait
// that long on one bar of signal, then the phone answers from what it has.
function withinPageTime(promise) {
  var timer;
  var slow = new Promise(function (resolve) { timer = setTimeout(resolve, PAGE_TIMEOUT, "slow"); });
  var settled = function () { clearTimeout(timer); };
  promise.then(settled, settled);
  return Promise.race([promise, slow]);
}

// Pages: network first with a short timeout, so they stay current; the saved copy when slow or offline.
function page(event, full) {
  var request = event.request;
  var key = pageKey(request.url);
  var network = fetch(request).then(function (response) {
    var learnt = learnUser(response);
    // A page the server no longer lets the phone keep: a copy an older version saved goes too.
    if (!mayKeep(response)) caches.open(PAGES).then(function (c) { return c.delete(key); }).catch(function () {});
    if (!full || !isPage(response)) return response;
    return Promise.resolve(learnt).then(function () { return save(key, response.clone()); })
      .then(function () { return response; });
  });
  // When the saved copy is shown first, the network answer still arrives and is saved: the worker
  // must stay alive until it is, or the next visit offline would get the older copy.
  event.waitUntil(network.catch(function () {}));
  return withinPageTime(network).then(function (first) {
    if (first !== "slow") return first;
    return savedPage(key, full).then(function (saved) { return saved || network; });
  }).catch(function () {
    return savedPage(key, full).then(function (saved) {
      return saved || walkListHere(request.url, full);
    }).then(function (saved) {
      if (saved) return saved;
      if (!full) {
        var note = '<p class="warning" role="alert">Not saved on this phone: it will open when there is signal.</p>';
        // A door opened from the walk list shows its card: say so in the card's place.
        if (contract.doorPageOf(request.url)) note = MARKERS.door + ' class="door-card">' + note + "</section>";
        return new Response(note, {status: 200, headers: {"Content-Type": "text/html; charset=utf-8"}});
      }
      return offlinePage();
    });
  });
}

// A walk list asked for with a search or "not yet covered" and not saved as such: the saved walk list,
// marked for the page to filter on the phone (walk.js). The whole page, or the list alone for htmx.
function walkListHere(url, full) {
  var base = new URL(url);
  if (!contract.walkListOf(url) || !base.search) return Promise.resolve(null);
  base.search = "";
  return savedPage(pageKey(base.href), true).then(function (saved) {
    if (!saved) return null;
    return saved.text().then(function (body) {
      body = body.replace(MARKERS.walkList + "<section ", MARKERS.walkList + "<section data-offline-filter ");
      var from = body.indexOf(MARKERS.walkList), to = body.indexOf(MARKERS.walkListEnd);
      if (!full) body = from >= 0 && to > from ? body.slice(from, to) : null;
      return body && new Response(body, {status: 200, headers: saved.headers});
    });
  });
}

function offlinePage() {
  return caches.open(STATIC).then(function (cache) { return cache.match(URLS.offline); });
}

// "Make ready offline": the page fetches each URL through here, so saving happens in one place.
function saveForLater(request) {
  var clean = new Request(request.url, {credentials: "same-origin", cache: "no-store"});
  return fetchWithin(30000, clean).then(function (response) {
    learnUser(response);
    if (!isPage(response)) return new Response(null, {status: response.ok ? 502 : response.status});
    return save(pageKey(request.url), response).then(function () { return new Response(null, {status: 204}); });
  }, function () { return new Response(null, {status: 503}); });
}

// A pack: many doors' pages in one compressed stream of JSON lines, a door to a line (outreach/pwa/pack.py).
// Each door is saved as its line arrives, with its version, so a pack cut off half-way keeps what came and
// the next press asks only for the rest. The page is answered with a line per door saved (its progress bar
// counts doors), then "done"; a stream that breaks first ends in an error the page reports.
var PACK_IDLE = 30000;  // no byte for this long: the signal has gone, give up (what arrived is kept)

function savePack(request) {
  var controller = new AbortController(), idle;
  function quiet() {
    clearTimeout(idle);
    idle = setTimeout(function () { controller.abort(); }, PACK_IDLE);
  }
  quiet();
  var clean = new Request(request.url, {credentials: "same-origin", cache: "no-store", signal: controller.signal});
  return fetch(clean).then(function (response) {
    learnUser(response);
    var user = response.headers.get("X-Outreach-User");
    if (!response.ok || !response.body || !user || (currentUser && user !== currentUser)) {
      clearTimeout(idle);
      return new Response(null, {status: response.ok ? 502 : response.status});
    }
    var reader = response.body.getReader(), decoder = new TextDecoder(), encoder = new TextEncoder(), rest = "";
    var body = new ReadableStream({
      start: function (out) {
        function pump() {
          return reader.read().then(function (chunk) {
            quiet();
            if (chunk.done) {
              clearTimeout(idle);
              return out.close();
            }
            var lines = (rest + decoder.decode(chunk.value, {stream: true})).split("\n");
            rest = lines.pop();
            // The doors that arrived together are saved together (a cache write waits on the disk).
            return Promise.all(lines.map(function (line) {
              var door = JSON.parse(line);
              if (door.done) return "done";
              return saveDoor(door, user).then(function () { return door.door; });
            })).then(function (saved) {
              saved.forEach(function (what) { out.enqueue(encoder.encode(what + "\n")); });
              return pump();
            });
          });
        }
        return pump().catch(function (error) {
          clearTimeout(idle);
          out.error(error);
        });
      },
      cancel: function () { controller.abort(); }
    });
    return new Response(body, {status: 200, headers: {"Content-Type": "text/plain; charset=utf-8"}});
  }, function () {
    clearTimeout(idle);
    return new Response(null, {status: 503});
  });
}

// A door's pages, stamped as any saved page is (when, whose) and with the door's version; the door page last,
// so a door counts as saved only once all of it is.
function saveDoor(door, user) {
  var at = new Date().toISOString();
  return caches.open(PAGES).then(function (cache) {
    return door.pages.reduce(function (chain, page) {
      return chain.then(function () {
        var headers = {"Content-Type": "text/html; charset=utf-8", "X-Outreach-User": user, "X-Outreach-Saved": at,
                       "X-Outreach-Version": door.version};
        return cache.put(pageKey(new URL(page[0], self.location.href).href),
                         new Response(page[1], {status: 200, headers: headers}));
      });
    }, Promise.resolve());
  });
}

// ---- the outbox ------------------------------------------------------------------------------------

// Any form POST whose body carries its own identity (uuid, recorded_at, author_id) is a record:
// written to the outbox BEFORE it is sent, and removed only when the server confirms it.
function post(request, event) {
  var type = request.headers.get("Content-Type") || "";
  if (type.indexOf("application/x-www-form-urlencoded") !== 0) return fetch(request);
  return request.clone().text().then(function (body) {
    var fields = new URLSearchParams(body), queued = false;
    if (!contract.RECORD_FIELDS.every(function (name) { return fields.get(name); })) return fetch(request);
    var record = {
      uuid: fields.get("uuid"), url: request.url, body: body, contentType: type,
      boosted: request.headers.get("HX-Boosted") === "true",
      author: fields.get("author_id"), recordedAt: fields.get("recorded_at"),
      description: decodeURIComponent(request.headers.get("X-Outreach-Describe") || "") ||
        new URL(request.url).pathname,
      state: "sending", attempts: 0, nextTry: 0, lastError: null, lastStatus: null,
      lease: Date.now() + SEND_TIMEOUT + 5000, createdAt: Date.now()
    };
    return store.add(record).then(function (id) {
      record.id = id;
      // Behind a record for the same door still on its way (an Undo 3.5 s after its visit, on one bar of
      // signal), it is not sent alongside: the server must get them in order. It waits, and goes next.
      if (onItsWay[record.url]) {
        record.state = "waiting";
        record.lease = 0;
        behind[record.url] = true;
        return store.put(record).then(function () { queued = true; replay(false); return tell({}); });
      }
      return tell({});
    }, function () {
      // The same UUID is already in the outbox (a double submit): keep the first, send nothing twice.
      return store.byUuid(record.uuid).then(function (existing) {
        if (!existing) throw new Error("The outbox could not be written.");
        record = null;
        return existing;
      });
    }).then(function (existing) {
      if (!record) return savedAnswer(existing, request);
      if (queued) return savedAnswer(record, request);
      return sendLive(record, request, body, event);
    });
  });
}

function sendLive(record, request, body, event) {
  var headers = new Headers(request.headers);
  // Made by the outbox: the server answers 401, never a redirect to the sign-in page.
  headers.set("X-Outreach-Replay", "1");
  var navigate = request.mode === "navigate";
  var late = false;  // the page was answered before the server: it saw no refusal, so none is dropped
  var fetched = sending(record.url, fetchWithin(SEND_TIMEOUT, request.url, {
    method: "POST", headers: headers, body: body, credentials: "same-origin", redirect: navigate ? "manual" : "follow"}));
  var sent = fetched.then(function (response) {
    return settle(record, response, !late).then(function (result) {
      tell({});
      if (behind[record.url]) {  // what waited behind it (its Undo) goes now
        delete behind[record.url];
        replay(false);
      }
      if (result === "done" || result === "refused") return response;
      if (result === "signin") tell({signin: true});
      return savedAnswer(record, request);
    });
  }, function (error) {
    return backoff(record, error).then(function () { return savedAnswer(record, request); });
  });
  // One bar of signal: the record is safe in the outbox, so after PAGE_TIMEOUT the worker is told it is saved
  // on the phone and goes on to the next door; the send carries on (the worker stays alive for it) and the
  // page hears when it has gone (the badge).
  event.waitUntil(sent.catch(function () {}));
  var arrived = function () { return "arrived"; };
  return withinPageTime(fetched.then(arrived, arrived)).then(function (first) {
    if (first !== "slow") return sent;
    late = true;
    return savedAnswer(record, request);
  });
}

// The doors (record URLs) with a record being sent now, by this worker: a record for one of them waits behind.
var onItsWay = {};
var behind = {};  // the doors with a record waiting behind a live send: replayed once it is answered
function sending(url, fetched) {
  onItsWay[url] = (onItsWay[url] || 0) + 1;
  var done = function () { if (!--onItsWay[url]) delete onItsWay[url]; };
  fetched.then(done, done);
  return fetched;
}

// What the server's answer means for a record. Only a real 2xx from the server counts as delivered.
function classify(response) {
  if (response.type === "opaqueredirect") return "done";  // 303 after a plain form POST
  if (response.status === 401 || (response.redirected && new URL(response.url).pathname === URLS.login)) {
    return "signin";
  }
  if (response.ok) return "done";
  if (response.status === 408 || response.status === 429 || response.status >= 500) return "retry";
  return "refused";
}

function settle(record, response, live) {
  var kind = classify(response);
  if (kind === "done") return store.remove(record.id).then(function () { refreshDoor(record); return kind; });
  if (kind === "retry") {
    // The server's own reason is kept: a record that keeps failing says why on Waiting to send.
    return reason(response).then(function (why) {
      return backoff(record, {status: response.status, reason: why});
    }).then(function () { return kind; });
  }
  if (kind === "signin") {
    record.state = "waiting";
    record.lease = 0;
    record.lastStatus = 401;
    record.lastError = "Your sign-in has expired: sign in again and it will be sent.";
    return Promise.all([store.put(record), signedOutNow()]).then(function () { return kind; });
  }
  // The worker is looking at the form when a live send is refused as invalid: the page shows
  // what to fix, and nothing was stored, so the outbox needn't keep it.
  if (live && response.status === 422) return store.remove(record.id).then(function () { return kind; });
  return reason(response).then(function (why) {
    record.state = "needs_attention";
    record.lease = 0;
    record.lastStatus = response.status;
    record.lastError = why;
    return store.put(record);
  }).then(function () { return kind; });
}

// Once a record is on the server, the saved page of its door is replaced by the server's, so a worker back in
// signal sees the server's state, not an older page with the record laid over it. Only doors the phone keeps;
// one fetch per door however many of its records were sent.
var refreshing = {};
var signOuts = 0;  // counts sign-outs: a refresh begun before one must not save its page after it

function refreshDoor(record) {
  var door = contract.doorOf(record.url);
  if (!door || refreshing[door]) return;
  var key = pageKey(new URL(contract.doorUrl(door), record.url).href);
  var began = signOuts;
  refreshing[door] = rawSaved(key).then(function (hit) {
    if (!hit) return;
    return fetchWithin(SEND_TIMEOUT, key, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
      if (!isPage(response) || response.headers.get("X-Outreach-User") !== hit.headers.get("X-Outreach-User")) return;
      // Only in place of the page still saved: a sign-out meanwhile removed it, and it stays removed.
      return rawSaved(key).then(function (still) {
        if (still && began === signOuts) return save(key, response);
      });
    });
  }).catch(function () {}).then(function () { delete refreshing[door]; });
}

// The server's reason for a refusal: its header, else its JSON message, else the errors in its HTML.
function reason(response) {
  var header = response.headers.get("X-Outreach-Reason");
  var fallback = response.status >= 500 ? "The server had a problem (" + response.status + ")." :
    "The server refused this record (" + response.status + ").";
  return response.clone().text().then(function (text) {
    if (header) return header;
    try { return JSON.parse(text).message || text; } catch (e) { /* HTML */ }
    var errors = [];
    text.replace(new RegExp(MARKERS.error + "[^>]*>([^<]+)<", "g"), function (m, message) {
      errors.push(message.trim());
    });
    return errors.join(" ") || fallback;
  }).catch(function () { return header || fallback; });
}

function backoff(record, error) {
  record.attempts += 1;
  var delay = Math.min(MAX_BACKOFF, 2000 * Math.pow(2, record.attempts - 1)) * (0.75 + Math.random() / 2);
  record.state = "waiting";
  record.lease = 0;
  record.nextTry = Date.now() + Math.min(MAX_BACKOFF, delay);
  record.lastStatus = error.status || null;
  record.serverReason = error.reason || null;
  record.lastError = error.status ? "The server had a problem (" + error.status + "); it will try again." :
    error.name === "AbortError" ? "No answer from the server in time; it will try again." :
    "No signal; it will be sent when there is.";
  // Background Sync is for a phone without signal: it fires when signal returns. Registered after a server's
  // failure (5xx) it would fire at once, with signal, and send again at once: the backoff would be lost.
  if (!error.status && self.registration.sync) self.registration.sync.register("outbox").catch(function () {});
  return store.put(record).then(function () { return tell({}); });
}

// The answer the page gets when a record stays on the phone: 202, "Saved on this phone".
function savedAnswer(record, request) {
  var what = contract.whatOf(record.description) || record.description;
  var note = '<p class="flash saved" role="status">Saved on this phone, will send when there is signal: ' +
    contract.escapeHtml(what) + ".</p>";
  var html = {"Content-Type": "text/html; charset=utf-8"};
  var door = contract.doorOf(record.url);
  var boosted = request.headers.get("HX-Boosted") === "true" || request.mode === "navigate";
  var fragment = request.headers.get("HX-Request") === "true" && !boosted;
  var source = door && fragment ? rawSaved(new URL(contract.doorUrl(door), record.url).href) : offlinePage();
  return source.then(function (saved) { return saved ? saved.text() : ""; }).then(function (text) {
    var start = text.indexOf(MARKERS.door), end = text.indexOf(MARKERS.doorEnd);
    var body;
    if (door && fragment && start >= 0 && end > start) {
      // The cached door, so the worker can go on; the page overlays what is waiting to send.
      body = text.slice(start, end).replace(MARKERS.doorMessage, note);
    } else if (fragment && door) {
      // Only the note: the page keeps the card it shows and puts this in its place (app.js).
      body = MARKERS.door + ' class="door-card">' + MARKERS.doorNote + note + "</div></section>";
    } else if (fragment) {
      body = note;  // a mark on a register: the page shows it on the register (register.js)
    } else {
      note += waysOn(record.body);
      var from = text.indexOf(MARKERS.offlineMessage), to = text.indexOf(MARKERS.offlineMessageEnd);
      body = from >= 0 && to > from ? text.slice(0, from) + note + text.slice(to + MARKERS.offlineMessageEnd.length)
        : text;
    }
    return new Response(body, {status: 202, headers: html});
  });
}

// A form that names the way on (a sign-up at a door: the next door, the walk list) gets it offline too.
function waysOn(body) {
  var fields = new URLSearchParams(body), links = "";
  [["then_next", "Next door"], ["then_walk", "Back to the walk list"], ["then_register", "Back to the register"]]
    .forEach(function (way) {
    var url = fields.get(way[0]);
    if (url && /^\/[^\/\\]/.test(url)) {
      links += '<p><a class="button" href="' + contract.escapeHtml(url) + '">' + way[1] + "</a></p>";
    }
  });
  return links;
}

// ---- replay ----------------------------------------------------------------------------------------

// One replay at a time in this worker; triggers that arrive meanwhile ask for one more pass, so
// each record is sent once per pass and never twice at the same moment.
var running = null, again = false, forceNext = false, signinNeeded = false;

function replay(force) {
  forceNext = forceNext || force;
  if (running) { again = true; return running; }
  running = (function loop() {
    again = false;
    var force = forceNext;
    forceNext = false;
    return replayPass(force).then(function () { if (again) return loop(); });
  })().catch(function () {}).then(function () { running = null; tidy(); return tell({progress: null}); });
  return running;
}

function session() {
  return fetchWithin(SEND_TIMEOUT, URLS.session, {headers: {"Accept": "application/json", "X-Outreach-Replay": "1"},
                                                  credentials: "same-origin", cache: "no-store"})
    .then(function (response) {
      if (response.status === 401 || response.redirected) return signedOutNow().then(function () { return null; });
      if (!response.ok) throw new Error("server " + response.status);
      return response.json();
    });
}

function replayPass(force) {
  var now = Date.now();
  return store.all().then(function (records) {
    var leased = {};  // the doors (record URLs) with a record being sent now, here or by another worker
    records.forEach(function (r) { if (r.lease > now) leased[r.url] = true; });
    var due = records.filter(function (r) {
      return r.state !== "needs_attention" && !(r.lease > now) && (force || !(r.nextTry > now)) && !leased[r.url];
    });
    if (!due.length) return;
    return session().then(function (who) {
      if (!who) {
        signinNeeded = true;
        return tell({signin: true});
      }
      signinNeeded = false;
      if (String(who.user_id) !== currentUser) forgetPages(String(who.user_id));
      currentUser = String(who.user_id);
      store.meta("user", currentUser);
      // A record is only ever sent under the login of the user who recorded it.
      var mine = due.filter(function (r) { return contract.madeBy(r, currentUser); });
      var sent = 0;
      return mine.reduce(function (chain, record) {
        return chain.then(function (stop) {
          if (stop) return stop;
          tell({progress: {done: sent++, of: mine.length}});
          return deliver(record, who.csrf_token).then(function (result) {
            // No signal at all: the rest would fail the same way, so stop and wait for a trigger.
            // A record the server refuses or fails on does not hold back the ones behind it.
            if (result === "network") return "stop";
            if (result === "signin") { signinNeeded = true; tell({signin: true}); return "stop"; }
          });
        });
      }, Promise.resolve());
    }, function () { /* no signal or the server is down: later */ });
  });
}

function deliver(record, token) {
  return store.get(record.id).then(function (fresh) {
    // Gone (sent by a live request) or taken by another send meanwhile: nothing to do.
    if (!fresh || fresh.state === "needs_attention" || fresh.lease > Date.now()) return "skip";
    record = fresh;
    record.state = "sending";
    record.lease = Date.now() + SEND_TIMEOUT + 5000;
    return store.put(record).then(function () {
      tell({});
      var body = new URLSearchParams(record.body);
      body.set("csrf_token", token);  // tokens belong to the session: the one saved with the form may be old
      return sending(record.url, fetchWithin(SEND_TIMEOUT, record.url, {
        method: "POST", body: body.toString(), credentials: "same-origin",
        // No page shows the answer to a record sent in the background: the receipt is enough (RFC 7240).
        headers: {"Content-Type": record.contentType, "X-CSRFToken": token, "HX-Request": "true",
                  "X-Outreach-Replay": "1", "Prefer": "return=minimal"}
      })).then(function (response) {
        return settle(record, response, false);
      }, function (error) {
        return backoff(record, error).then(function () { return error.name === "AbortError" ? "retry" : "network"; });
      });
    });
  });
}

// Every open page hears of changes (it recounts the outbox itself) and of replay progress.
function tell(news) {
  news.type = "outbox";
  news.replaying = !!running;
  if (news.signin === undefined) news.signin = signinNeeded;
  return self.clients.matchAll({type: "window", includeUncontrolled: true}).then(function (clients) {
    clients.forEach(function (client) { client.postMessage(news); });
  });
}
