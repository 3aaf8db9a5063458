// What the service worker, the pages and the server's templates agree on, in one place: loaded by the
// pages (a script tag) and by the worker (importScripts), so neither keeps its own copy to drift.
// URLs come from the server (url_for), never written here: pages read them from the JSON in base.html,
// the worker from its rendered config. tests/test_offline_markers.py reads MARKERS and RECORD_FIELDS from
// this file and checks the real pages still carry them: keep both literals plain JSON.
(function (g) {
  "use strict";

  // Places in the server's HTML that the worker cuts or writes into when it answers offline.
  var MARKERS = {
    "main": "<main id=\"main\">",
    "door": "<section id=\"door\"",
    "doorNote": "<div id=\"door-note\" aria-live=\"polite\">",
    "doorMessage": "<!--door:message-->",
    "doorEnd": "<!--/door-->",
    "offlineMessage": "<!--offline:message-->",
    "offlineMessageEnd": "<!--/offline:message-->",
    "walkList": "<!--walk-list-->",
    "walkListEnd": "<!--/walk-list-->",
    "error": "class=\"error\""
  };

  // A form POST carrying all three is a record: the page fills them in, the worker keeps it in the outbox.
  var RECORD_FIELDS = ["uuid", "recorded_at", "author_id"];

  var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function twoDigits(n) { return (n < 10 ? "0" : "") + n; }

  var urls = null;
  if (g.document) {
    var config = g.document.getElementById("outreach-urls");
    if (config) urls = JSON.parse(config.textContent);
  }

  function pattern(template) {
    return new RegExp("^" + template.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(":id", "(\\d+)") + "$");
  }

  g.OutreachContract = {
    MARKERS: MARKERS,
    RECORD_FIELDS: RECORD_FIELDS,
    get urls() { return urls; },
    // The worker has no page to read them from: its rendered config hands them over.
    use: function (given) { urls = given; },

    // The door a visit was recorded at (its property id), from the URL the record is posted to; or null.
    doorOf: function (url) {
      var found = pattern(urls.visits).exec(new URL(url, g.location.href).pathname);
      return found ? found[1] : null;
    },
    doorUrl: function (id) { return urls.door.replace(":id", id); },
    // The estate whose walk list this URL is (its id), or null.
    walkListOf: function (url) {
      var found = pattern(urls.walk).exec(new URL(url, g.location.href).pathname);
      return found ? found[1] : null;
    },
    // The door whose page this URL is (its property id), or null.
    doorPageOf: function (url) {
      var found = pattern(urls.door).exec(new URL(url, g.location.href).pathname);
      return found ? found[1] : null;
    },

    // A record's description is "12 Ash Walk: No answer": where, then what.
    describe: function (place, what) { return [place, what].filter(Boolean).join(": "); },
    placeOf: function (description) { return description.split(": ")[0]; },
    whatOf: function (description) { return description.split(": ").slice(1).join(": "); },

    // Records are only ever sent, shown and counted as the user who made them.
    madeBy: function (record, userId) { return String(record.author) === String(userId); },

    // "Mon 30 Nov, 08:10", the one way a time on the phone is written (the server's too); an unreadable one is
    // shown as given. Written out by hand: the first toLocaleString of a page loads the locale's data, 70 ms on a
    // slow phone, in the middle of recording a door.
    when: function (iso) {
      var d = new Date(iso);
      if (isNaN(d)) return iso;
      return DAYS[d.getDay()] + " " + d.getDate() + " " + MONTHS[d.getMonth()] + ", " + twoDigits(d.getHours()) +
        ":" + twoDigits(d.getMinutes());
    },

    escapeHtml: function (text) {
      return String(text).replace(/[&<>"]/g, function (c) {
        return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c];
      });
    }
  };
})(self);
