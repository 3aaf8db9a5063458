// Coverage map: one compact fetch of the estate's doors, drawn as canvas circle markers (DOM markers
// are far too slow for 10,000 doors). Works with no tiles: points and block outlines on a plain background.
(function () {
  "use strict";

  // Colours come from the legend's swatches, so the page's CSS is the one place they are decided.
  function swatchColours(root, selector, key) {
    var colours = {};
    root.querySelectorAll(selector).forEach(function (li) {
      var swatch = li.querySelector(".swatch");
      if (swatch) colours[li.getAttribute(key)] = getComputedStyle(swatch).backgroundColor;
    });
    return colours;
  }

  // Convex hull (monotone chain) of a block's points: its outline when none is stored.
  function hull(points) {
    if (points.length < 3) return points;
    var p = points.slice().sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    var cross = function (o, a, b) { return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]); };
    var lower = [], upper = [], i;
    for (i = 0; i < p.length; i++) {
      while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p[i]) <= 0) lower.pop();
      lower.push(p[i]);
    }
    for (i = p.length - 1; i >= 0; i--) {
      while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p[i]) <= 0) upper.pop();
      upper.push(p[i]);
    }
    return lower.slice(0, -1).concat(upper.slice(0, -1));
  }

  function openSummary(el, id) {
    var url = el.dataset.summary + id;
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: "#door-summary", swap: "innerHTML" });
    } else {
      window.location.href = url;
    }
  }

  var SPREAD_M = 1.8;  // metres: 28 flats take a disc ~19 m across, clear of the next entrance
  var NEAR = [5, 8];  // in the data's 1e-5 degree (lat, lng): about 5 m either way

  // The door grid's row of a block, opened (it loads its doors) and brought into view.
  function openRow(blockId) {
    var row = document.getElementById("grid-" + blockId);
    if (!row) return;
    row.open = true;
    row.scrollIntoView({ block: "start" });
    var summary = row.querySelector("summary");
    if (summary) summary.focus({ preventScroll: true });
  }

  function draw(el, data) {
    var L = window.L;
    var section = el.closest("#coverage") || document;
    var status = document.getElementById("map-status");
    var stateColours = swatchColours(section, ".legend-status li", "data-state");
    var workerColours = swatchColours(section, ".legend-worker li", "data-worker");
    var renderer = L.canvas({ padding: 0.5, tolerance: 8 });
    var map = L.map(el, { renderer: renderer, preferCanvas: true, zoomSnap: 0.5, maxZoom: 20 });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution, maxZoom: 20 }).addTo(map);
    }
    var blockPoints = data.blocks.map(function () { return []; }), blockLeft = {};
    var markers = [];
    var bounds = L.latLngBounds([]);
    var id = 0, dlat = 0, dlng = 0;
    var colourBy = el.dataset.colour;
    function fill(door) {
      if (colourBy === "worker") {
        var block = data.blocks[door.block];
        var worker = block ? block[1] : data.estate_worker;
        return workerColours[worker === null || worker === undefined ? "" : String(worker)] || workerColours[""];
      }
      return stateColours[data.states[door.state]];
    }
    // Flats stand on top of each other: doors of one block within a few metres of each other (the flats
    // of one entrance) are spread in a small disc round their middle (a sunflower spiral, SPREAD_M apart),
    // so 56 flats show as 56 doors, not as two dots.
    var groups = {}, groupOfDoor = [];
    data.doors.forEach(function (d) {
      dlat += d[1]; dlng += d[2];
      var mine = groups[d[5]] = groups[d[5]] || [];
      var g = null;
      for (var i = 0; i < mine.length && !g; i++) {
        if (Math.abs(mine[i].at[0] - dlat) <= NEAR[0] && Math.abs(mine[i].at[1] - dlng) <= NEAR[1]) g = mine[i];
      }
      if (!g) mine.push(g = { at: [dlat, dlng], n: 0, lat: 0, lng: 0, placed: 0 });
      g.n += 1; g.lat += dlat; g.lng += dlng;
      groupOfDoor.push(g);
    });
    dlat = 0; dlng = 0;
    data.doors.forEach(function (d) {
      id += d[0]; dlat += d[1]; dlng += d[2];
      var lat = data.origin[0] + dlat / data.scale, lng = data.origin[1] + dlng / data.scale;
      var g = groupOfDoor[markers.length];
      if (g.n > 1) {
        var k = ++g.placed, r = SPREAD_M * Math.sqrt(k - 0.5), a = k * 2.39996;
        lat = data.origin[0] + g.lat / g.n / data.scale + r * Math.cos(a) / 111320;
        lng = data.origin[1] + g.lng / g.n / data.scale + r * Math.sin(a) / (111320 * Math.cos(lat * Math.PI / 180));
      }
      var ll = L.latLng(lat, lng);
      var door = { id: id, state: d[3], knocks: d[4], block: d[5], flags: d[6] };
      var marker = L.circleMarker(ll, {
        renderer: renderer, radius: 7, weight: door.flags & 2 ? 3 : 1, color: door.flags & 2 ? "#c0152a" : "#222",
        fillColor: fill(door), fillOpacity: 0.95
      });
      marker.door = door;
      marker.on("click", function () { openSummary(el, door.id); });
      markers.push(marker);
      bounds.extend(ll);
      if (door.block >= 0) {
        blockPoints[door.block].push([ll.lat, ll.lng]);
        if (data.states[door.state] === "not_knocked") blockLeft[door.block] = (blockLeft[door.block] || 0) + 1;
      }
    });
    // Block outlines under the doors: the stored outline, else a band around the block's doors (a wide
    // translucent stroke buffers the hull, so a street or a two-entrance block still shows as a shape).
    data.blocks.forEach(function (block, i) {
      var style = { renderer: renderer, color: "#4a5561", weight: 26, opacity: 0.16, fill: true, fillOpacity: 0.16,
                    lineJoin: "round", lineCap: "round", interactive: false };
      if (block[2]) {
        try {
          L.geoJSON(JSON.parse(block[2]), { style: { color: "#4a5561", weight: 2, fillOpacity: 0.08 }, interactive: false }).addTo(map);
          return;
        } catch (e) { /* a broken outline: fall back to the band */ }
      }
      var pts = blockPoints[i];
      var shape = null;
      if (pts.length >= 3) shape = L.polygon(hull(pts), style);
      else if (pts.length === 2) shape = L.polyline(pts, style);
      else if (pts.length === 1) shape = L.circleMarker(pts[0], { renderer: renderer, radius: 13, stroke: false, fillColor: "#4a5561", fillOpacity: 0.16, interactive: false });
      if (shape) shape.addTo(map);
    });
    var layer = L.featureGroup(markers).addTo(map);
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [16, 16], maxZoom: 19 });
    else map.setView([54, -2.5], 5);
    // Each block and street named where its doors are, with what is left to knock there; a tap on the
    // name brings the map close on it and opens its row of the door grid below.
    data.blocks.forEach(function (block, i) {
      var pts = blockPoints[i];
      if (!pts.length || !block[3]) return;
      var left = blockLeft[i] || 0;
      var centre = pts.reduce(function (c, p) { return [c[0] + p[0] / pts.length, c[1] + p[1] / pts.length]; }, [0, 0]);
      var label = L.tooltip({ permanent: true, direction: "center", className: "block-label", interactive: true })
        .setLatLng(centre).setContent(block[3] + ": " + (left ? left + " not knocked" : "all knocked"));
      label.addTo(map);
      var el = label.getElement();
      if (el) {
        el.setAttribute("role", "button");
        el.setAttribute("tabindex", "0");
        // The map comes close on the block (its doors then stand apart) and its grid row opens.
        var open = function () {
          map.fitBounds(L.latLngBounds(pts), { padding: [40, 40], maxZoom: 20, animate: false });
          openRow(block[0]);
        };
        el.addEventListener("click", open);
        el.addEventListener("keydown", function (event) { if (event.key === "Enter") open(); });
      }
    });
    el.dataset.points = String(markers.length);
    if (status) {
      status.textContent = markers.length + " door" + (markers.length === 1 ? "" : "s") + " on the map" +
        (data.unmapped ? " · " + data.unmapped + " without a location (see the grid)" : "") + ".";
    }
    el.coverage = { map: map, markers: markers, layer: layer, data: data };

    // Colour by status or by assigned worker without fetching again.
    // (onchange, not addEventListener: a filtered map replaces this one, and so its handler.)
    document.querySelectorAll("input[name=colour]").forEach(function (radio) {
      radio.onchange = function () {
        colourBy = radio.value;
        el.dataset.colour = colourBy;
        markers.forEach(function (m) { m.setStyle({ fillColor: fill(m.door) }); });
        section.querySelector(".legend-status").hidden = colourBy === "worker";
        section.querySelector(".legend-worker").hidden = colourBy !== "worker";
      };
    });
  }

  function init() {
    var el = document.getElementById("coverage-map");
    if (!el || el.dataset.started) return;
    el.dataset.started = "1";
    var status = document.getElementById("map-status");
    if (status) status.textContent = "Loading the map…";
    var tries = 0;
    // A boosted navigation inserts the scripts asynchronously: wait for Leaflet briefly.
    (function whenLeaflet() {
      if (window.L) return load();
      if (++tries > 100) { if (status) status.textContent = "The map could not start. The door grid below still works."; return; }
      setTimeout(whenLeaflet, 50);
    })();
    function load() {
      fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { draw(el, data); })
        .catch(function () {
          if (status) status.textContent = "The map data could not be loaded. The door grid below still works.";
        });
    }
  }

  if (!window.outreachCoverageBound) {
    window.outreachCoverageBound = true;
    document.addEventListener("htmx:afterSettle", init);
    document.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest("[data-close-sheet]")) {
        var sheet = document.getElementById("door-summary");
        if (sheet) sheet.innerHTML = "";
      }
    });
    document.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "door-summary") {
        var heading = event.detail.target.querySelector("h2");
        if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
      }
    });
  }
  init();
})();
