// Outreach page script: small, no build step. The app works without it (plain forms and links).
(function () {
  "use strict";

  // The outcome being recorded at this door: what the card's Undo will take back.
  var justRecorded = null;

  // Every write carries its own identity, made at the moment of submitting (a cached page is
  // submitted many times, so a UUID baked into the HTML would repeat): a UUID, the phone's time
  // and the author. Capture phase, so this runs before htmx reads the form.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement) delete form.dataset.dirty;
    if (!(form instanceof HTMLFormElement) || !form.elements.namedItem("uuid")) return;
    // "12 Ash Walk: No answer": how the outbox names this record to the worker.
    var button = event.submitter;
    var label = button && button.name ? (button.dataset.label || button.textContent.trim()) : "";
    form.dataset.description = OutreachContract.describe(form.dataset.describe, label);
    form.elements.namedItem("uuid").value = crypto.randomUUID();
    if (form.id === "visit-form" && button && button.name === "outcome") {
      justRecorded = {uuid: form.elements.namedItem("uuid").value, label: label};
    }
    var at = form.elements.namedItem("recorded_at");
    if (at) at.value = new Date().toISOString();
    var author = form.elements.namedItem("author_id");
    if (author && document.body.dataset.userId) author.value = document.body.dataset.userId;
    // An outcome tapped at a door is sent here, before htmx or the browser would send it (see recordOutcome).
    if (form.id === "visit-form" && button && button.name === "outcome" && window.htmx && window.fetch) {
      event.preventDefault();
      event.stopImmediatePropagation();
      recordOutcome(form, button);
    }
  }, true);

  // A walk-list door opens inline under its row (one at a time: each door's form uses the same
  // ids); tapping it again closes it. One listener for the whole list keeps 1,200 rows light.
  // Capture phase, before htmx's boost handler on the link; without htmx the link just navigates.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".doors a.door");
    if (!link || !window.htmx || event.button || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    event.stopPropagation();
    var row = link.parentNode, panel = row.querySelector(".door-panel");
    document.querySelectorAll(".doors .door-panel").forEach(function (open) {
      if (open !== panel) open.remove();
    });
    if (panel) return panel.remove();
    panel = document.createElement("div");
    panel.className = "door-panel";
    row.appendChild(panel);
    // Boosted when tapped, not before (htmx setting up 1,200 rows took 800 ms of a slow phone's page load): htmx
    // then asks for the whole door page (the service worker saves it for use with no signal) and keeps its card.
    if (!link.hasAttribute("hx-boost")) {
      link.setAttribute("hx-boost", "true");
      htmx.process(link);
    }
    htmx.ajax("GET", link.getAttribute("href") + "?from=walk", {source: link, target: panel, select: "#door",
                                                                 swap: "innerHTML"});
  }, true);

  var banner = function (text) {
    var el = document.getElementById("network-banner");
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
  };
  var NO_CONNECTION = "No connection: that did not reach the server.";
  document.addEventListener("htmx:sendError", function () { banner(NO_CONNECTION); });
  function showError(status) {
    if (status === 401) banner("Your sign-in has expired. Sign in again; nothing recorded on this phone is lost.");
    else if (status >= 500) banner("The server had a problem. Try again in a moment.");
    else if (status === 400) banner("This page is out of date. Reload it and try again.");
  }
  document.addEventListener("htmx:responseError", function (event) { showError(event.detail.xhr.status); });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) banner("");
  });

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt.closest && event.detail.elt.closest("form[data-outbox]");
    if (form && form.dataset.description) {
      event.detail.headers["X-Outreach-Describe"] = encodeURIComponent(form.dataset.description);
    }
  });
  // ---- moving on from a door ---------------------------------------------------------------------
  // Once an outcome is recorded (the server's answer, or the phone's "saved" answer with no signal),
  // the outcome buttons hide so a second tap cannot make a second visit, an Undo stays for a short
  // time, and then the card moves on to the next door not yet covered, unless the worker is busy
  // with this one (touched the card, or the resident is interested and may sign up).
  var UNDO_SECONDS = 10;
  var moveOn = null;

  function stopMovingOn() {
    clearTimeout(moveOn);
    moveOn = null;
  }

  function goToNextDoor(card) {
    var next = card.querySelector(".recorded .next-door");
    if (!next) return;
    // In the walk list the next door opens inline under its row; on a door's page, its own page.
    var row = document.querySelector('.doors a.door[href="' + next.getAttribute("href") + '"]');
    (row || next).click();
    if (row) row.scrollIntoView({block: "start"});
  }

  var busy = false;  // the worker is busy with this door (touched the card, or may sign someone up): it stays

  function showRecorded(recorded, stay) {
    var panel = document.getElementById("recorded"), form = document.getElementById("visit-form");
    if (!panel || !form) return;
    var card = panel.closest(".door-card"), undo = panel.querySelector("form.undo");
    var another = panel.querySelector(".another");
    panel.querySelector("input[name=undo]").value = recorded.uuid;
    // The card may be the one that showed an earlier outcome (only a visit's parts are put in place): as new.
    undo.hidden = false;
    if (another) another.hidden = false;
    panel.hidden = false;
    form.hidden = true;
    // The focus goes to the way on (the next door, or back to the walk list from the last): the button tapped
    // is hidden now, and a focus left on it would be lost.
    var next = panel.querySelector(".way-on a");
    if (next) next.focus({preventScroll: true});
    panel.scrollIntoView({block: "nearest"});
    stopMovingOn();
    busy = stay || !!card.querySelector(".sign-up-link.primary");
    if (!("watched" in card.dataset)) {
      card.dataset.watched = "";
      ["pointerdown", "keydown"].forEach(function (type) {
        card.addEventListener(type, function (event) {
          if (!event.target.closest(".next-door")) busy = true;
        });
      });
    }
    moveOn = setTimeout(function () {
      moveOn = null;
      if (!undo.isConnected) return;
      undo.hidden = true;
      if (!busy && card.isConnected) goToNextDoor(card);
    }, UNDO_SECONDS * 1000);
  }

  // ---- recording an outcome ------------------------------------------------------------------------
  // The tap a worker makes hundreds of times a day, so this script sends it, not htmx. On a phone's slow CPU
  // htmx's general way (an event for each field, the fieldset disabled, the whole card drawn and set up again,
  // the walk list's ready line redrawn) was most of the main thread's work from the tap to "Recorded" on screen
  // (bench/bench_lighthouse.py --record-only). The request is the one htmx made (its headers, the same fields;
  // the service worker keeps it in the outbox as before); of the answer, only the parts of the card that a visit
  // changes are put in place, and the door's row in the walk list.
  var CHANGED_BY_A_VISIT = ["door-state", "door-note", "door-sign-up", "door-history"];
  // And from the server's own answer (not the phone's saved card): the way on, worked out now (a teammate may
  // have covered the next door since the card was drawn).
  var WAY_ON = ["recorded-next", "door-next"];
  var SAME_MOSTLY = WAY_ON.concat(["door-sign-up"]);
  var PAGE_WAIT = 20000;  // the worker answers within 3.5 s; this is for an answer that stops half-way
  // The tapped button dims only if the answer is slow to come (one bar of signal): a dim that comes and goes
  // within a blink reads as a flicker and costs a slow phone a frame drawn for nothing. The tap itself is shown
  // at once by the phone's tap highlight; aria-busy marks the button at once for what reads it.
  var SLOW_ANSWER = 150;

  function recordOutcome(form, button) {
    // A second tap while the first is on its way records nothing more (the answer then hides the buttons).
    if ("sending" in form.dataset) return;
    var recorded = justRecorded;
    justRecorded = null;
    var body = new URLSearchParams(new FormData(form));
    body.append(button.name, button.value);
    form.dataset.sending = "";
    button.setAttribute("aria-busy", "true");
    var slow = setTimeout(function () { button.classList.add("on-its-way"); }, SLOW_ANSWER);
    function sent() {
      clearTimeout(slow);
      delete form.dataset.sending;
      button.removeAttribute("aria-busy");
      button.classList.remove("on-its-way");
    }
    var stop = new AbortController(), timer = setTimeout(function () { stop.abort(); }, PAGE_WAIT);
    fetch(form.action, {method: "POST", body: body, credentials: "same-origin", signal: stop.signal, headers: {
      "HX-Request": "true", "HX-Current-URL": location.href,
      "X-Outreach-Describe": encodeURIComponent(form.dataset.description || "")
    }}).then(function (response) {
      return response.text().then(function (text) { return [response.status, text]; });
    }).then(function (answer) {
      clearTimeout(timer);
      sent();
      answered(form, answer[0], answer[1], recorded);
    }, function () {
      // No answer at all, or one cut off half-way: the buttons work again, and the outbox has the record
      // if the worker took it (the badge says so).
      clearTimeout(timer);
      sent();
      banner(NO_CONNECTION);
    });
  }

  // The parts of the card a visit changes, from the answer (the server's card, or the phone's saved one): false
  // when the answer has none of them. Then the door's row in the walk list, which the answer carries out of band.
  function putInPlace(card, text, fromServer) {
    var answer = document.createElement("template");
    answer.innerHTML = text;
    var found = false;
    CHANGED_BY_A_VISIT.concat(fromServer ? WAY_ON : []).forEach(function (id) {
      var fresh = answer.content.getElementById(id), old = card.querySelector("#" + id);
      if (!fresh || !old) return;
      found = true;
      // The way on and the sign-up link are nearly always as they were: drawn again only when they differ. (The
      // note is always put in place, so a status said again is announced again.)
      if (SAME_MOSTLY.indexOf(id) >= 0 && fresh.innerHTML === old.innerHTML) return;
      // A live region (the note) stays and its content changes, so what it says is read out.
      var placed = fresh;
      if (old.hasAttribute("aria-live")) {
        while (old.firstChild) old.removeChild(old.firstChild);
        old.append.apply(old, Array.from(fresh.childNodes));
        placed = old;
      } else {
        old.replaceWith(fresh);
      }
      if (placed.querySelector("form, a")) htmx.process(placed);  // the history's void forms, the sign-up link
    });
    var row = answer.content.querySelector("a.door[hx-swap-oob]");
    var listed = row && document.querySelector('.doors a.door[href="' + row.getAttribute("href") + '"]');
    if (found && listed) {
      row.removeAttribute("hx-swap-oob");
      listed.replaceWith(row);
    }
    return found;
  }

  // What htmx is told to do with an answer of this status (base.html's responseHandling, read as htmx reads it:
  // the first rule whose code matches): whether it is shown, and whether it is an error.
  function handling(status) {
    return htmx.config.responseHandling.find(function (rule) {
      return new RegExp(rule.code).test(String(status));
    }) || {swap: false, error: true};
  }

  function answered(form, status, text, recorded) {
    var card = form.closest(".door-card"), rule = handling(status);
    var ok = status === 200 || status === 201 || status === 202;
    if (!card || !card.isConnected) {
      // The worker has opened another door meanwhile: a refusal must still be seen (nothing was kept).
      if (rule.swap && !ok) {
        banner("Not recorded: " + (form.dataset.description || "a visit") + ". Open that door again to see why.");
      }
      return;
    }
    // A refusal that explains itself is shown in the card; the others leave the card as it is and say what
    // happened in the banner.
    if (rule.error || !rule.swap) return showError(status);
    banner("");
    // A refusal marks the form's fields, and a form marked before (or asking to confirm) is drawn again: then
    // the whole card, as the server drew it.
    if (ok && !form.querySelector(".error, .confirming") && putInPlace(card, text, status !== 202)) {
      form.reset();  // as a newly drawn form would be: "Record another outcome" starts empty
      form.querySelectorAll("details").forEach(function (d) { d.open = false; });
      card.dispatchEvent(new CustomEvent("outreach:recorded", {bubbles: true, detail: {status: status}}));
    } else {
      htmx.swap(card, text, {swapStyle: "outerHTML", swapDelay: 0, settleDelay: 0}, {contextElement: form});
    }
    // With no signal (202) the card does not move on by itself: the next door may not be saved on this phone.
    if (ok && recorded) showRecorded(recorded, status === 202);
  }

  document.addEventListener("click", function (event) {
    var another = event.target.closest && event.target.closest(".recorded .another");
    if (another) {
      stopMovingOn();
      var form = document.getElementById("visit-form");
      if (form) form.hidden = false;
      another.hidden = true;
      return;
    }
    // "Do not knock" stops every visit to a door: the first tap asks, the second records.
    var button = event.target.closest && event.target.closest("#visit-form button.o-do_not_knock");
    if (button && !button.classList.contains("confirming")) {
      event.preventDefault();
      button.dataset.label = button.textContent.trim();
      button.classList.add("confirming");
      button.textContent = "Tap again to confirm: " + button.dataset.label;
      button.setAttribute("aria-describedby", "dnk-confirm");
      var note = document.createElement("p");
      note.id = "dnk-confirm";
      note.className = "warning";
      note.setAttribute("role", "alert");
      note.textContent = "Do not knock means nobody will call here again. Tap again to confirm.";
      button.parentNode.after(note);
    }
  });
  // ---- the sign-up form ----------------------------------------------------------------------------
  // A folded group of ticks says how many are chosen, so nothing ticked hides behind its summary.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
    var count = document.querySelector('[data-count-of="' + box.name + '"]');
    if (!count) return;
    count.textContent = box.form.querySelectorAll('input[name="' + box.name + '"]:checked').length + " chosen";
  });

  // The error summary takes focus when it appears; each of its links moves focus to its field.
  function focusErrorSummary() {
    var summary = document.querySelector(".error-summary");
    if (summary) summary.focus();
  }
  document.addEventListener("DOMContentLoaded", focusErrorSummary);
  document.addEventListener("htmx:afterSettle", focusErrorSummary);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[data-field]");
    if (!link) return;
    var message = document.getElementById(link.dataset.field + "-error");
    var field = document.getElementById(link.dataset.field) ||
      (message && message.closest("fieldset") && message.closest("fieldset").querySelector("input, select, textarea"));
    if (!field) return;
    event.preventDefault();
    var folded = field.closest("details");
    if (folded) folded.open = true;
    var label = document.querySelector('label[for="' + field.id + '"]') || (message || field);
    label.scrollIntoView({block: "start"});
    field.focus({preventScroll: true});
  });
})();
