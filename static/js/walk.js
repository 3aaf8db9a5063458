// The walk list with no signal. The search and "Only doors not yet covered" work on the saved list (the worker
// hands it over marked data-offline-filter, unfiltered): rows are hidden here, as the server would leave them
// out. And when the list is a saved copy, doors whose page is not saved on this phone say so, before a tap.
(function () {
  "use strict";
  if (!self.OutreachOffline) return;
  var store = self.OutreachStore;

  // With no signal the server cannot search: the address and the block or street name are what is on the page.
  function filterHere(list, fromUrl) {
    var form = document.querySelector("form.search");
    var q = form ? form.elements.namedItem("q") : null, uncovered = form ? form.elements.namedItem("uncovered") : null;
    if (fromUrl) {
      // A whole page opened from its URL: the search in the URL, put back in the form.
      var params = new URLSearchParams(location.search);
      if (q) q.value = params.get("q") || "";
      if (uncovered) uncovered.checked = params.get("uncovered") === "1";
    }
    var words = (q ? q.value : "").trim().toLowerCase(), only = !!(uncovered && uncovered.checked), shown = 0;
    list.querySelectorAll("section.group").forEach(function (group) {
      var name = (group.querySelector("h2") || {}).textContent || "", left = 0;
      group.querySelectorAll("ul.doors > li").forEach(function (row) {
        var link = row.querySelector("a.door"), address = link.querySelector(".addr").textContent;
        var keep = (!only || link.classList.contains("todo")) &&
          (!words || (address + " " + name).toLowerCase().indexOf(words) >= 0);
        row.hidden = !keep;
        if (keep) left++;
      });
      group.hidden = !left;
      shown += left;
    });
    var count = list.querySelector(".count");
    if (count) count.textContent = shown + " door" + (shown === 1 ? "" : "s") + " shown (searched on this phone: no signal)";
  }

  // Which doors of a saved walk list this phone can open: the others are marked before anyone taps them.
  function markUnsaved(list) {
    caches.open(store.PAGES).then(function (cache) { return cache.keys(); }).then(function (keys) {
      var saved = {};
      keys.forEach(function (k) { saved[new URL(k.url).pathname] = true; });
      list.querySelectorAll(".doors a.door").forEach(function (link) {
        var path = new URL(link.getAttribute("href"), location.href).pathname;
        if (saved[path] || link.classList.contains("not-saved")) return;
        link.classList.add("not-saved");
        var tag = document.createElement("span");
        tag.className = "not-saved-tag";
        tag.textContent = "Not saved on this phone";
        link.querySelector(".status").prepend(tag);
      });
    });
  }

  function onList(event) {
    var list = document.getElementById("walk-list");
    if (!list) return;
    if (list.hasAttribute("data-offline-filter")) filterHere(list, !event);
    var savedCopy = document.querySelector("main .stale[data-saved-at]") || list.hasAttribute("data-offline-filter");
    if (savedCopy || !navigator.onLine) markUnsaved(list);
  }

  document.addEventListener("htmx:afterSettle", onList);
  document.addEventListener("outreach:recorded", onList);  // a door's row put in place by app.js
  window.addEventListener("offline", onList);
  onList();
})();
