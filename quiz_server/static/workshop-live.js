/* Keeps the projector board and the trainer's control screen current.
 * Server-sent events tell when the room changed (a trainer action, an answer, someone joining);
 * the page then fetches its re-rendered fragment. Without EventSource, or after repeated stream
 * errors, it polls the small status document instead. No inline script anywhere (CSP).
 * On the projector board it also keeps everything on one screen: when a long question overflows,
 * the type shrinks a step at a time (a CSSOM change, which CSP allows) until it fits. */
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

  var board = document.body.classList.contains("papan");

  /* Shrink the board's type until the page needs no scrolling; portrait or narrow screens scroll. */
  function fit() {
    if (!board) { return; }
    var body = document.body;
    var doc = document.documentElement;
    body.style.fontSize = "";
    if (window.innerWidth < 900 || window.innerHeight > window.innerWidth) {
      body.setAttribute("data-fitted", "scroll");
      return;
    }
    var size = parseFloat(window.getComputedStyle(body).fontSize);
    for (var i = 0; i < 30 && doc.scrollHeight > window.innerHeight && size > 9; i += 1) {
      size = size * 0.94;
      body.style.fontSize = size.toFixed(2) + "px";
    }
    body.setAttribute("data-fitted", window.innerWidth + "x" + window.innerHeight);  /* for tests */
  }

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
        fit();
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

  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(fit, 150);
  });
  fit();
  if (!closed()) { connect(); }
})();
