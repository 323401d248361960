/* Keeps the projector board and the trainer's control screen current.
 * Server-sent events tell when the room changed (a trainer action, an answer, someone joining);
 * the page then fetches its re-rendered fragment. Without EventSource, or after repeated stream
 * errors, it polls the small status document instead. No inline script anywhere (CSP). */
(function () {
  "use strict";
  var root = document.querySelector("[data-live-root]");
  if (!root) { return; }
  var last = root.getAttribute("data-key");
  var source = null;
  var poller = null;
  var failures = 0;
  var busy = false;
  var again = false;

  function closed() { return root.querySelector("[data-phase='closed']") !== null; }

  function stop() {
    if (source) { source.close(); source = null; }
    if (poller) { clearInterval(poller); poller = null; }
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(root.getAttribute("data-fragment"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
      .then(function (html) {
        root.innerHTML = html;  /* server-rendered by Jinja, escaped there */
        if (closed()) { stop(); }
      })
      .catch(function () { /* the next change or poll tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function apply(state) {
    var key = state.version + ":" + state.answered + ":" + state.participants;
    if (key !== last) {
      last = key;
      var counter = root.querySelector("[data-menjawab]");
      if (counter) { counter.textContent = state.answered; }  /* at once, before the fragment arrives */
      refresh();
    }
  }

  function poll() {
    fetch(root.getAttribute("data-status"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) { if (state) { apply(state); } })
      .catch(function () {});
  }

  function startPolling() {
    if (source) { source.close(); source = null; }
    if (!poller) { poller = setInterval(poll, 1500); }
  }

  function connect() {
    if (!window.EventSource) { startPolling(); return; }
    source = new EventSource(root.getAttribute("data-stream"));
    source.onmessage = function (event) {
      failures = 0;
      apply(JSON.parse(event.data));
    };
    source.onerror = function () {
      /* Each stream ends after a bounded lifetime and reconnects; only repeated failures mean trouble. */
      failures += 1;
      if (failures >= 3) { startPolling(); }
    };
  }

  if (!closed()) { connect(); }
})();
