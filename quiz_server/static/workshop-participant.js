/* The participant's page reloads itself when the trainer moves the room on (the room's version
 * changes). It polls a tiny status document every two seconds or so, with jitter so a room of
 * phones does not hit the server in lockstep. No inline script anywhere (CSP). */
(function () {
  "use strict";
  var root = document.getElementById("ruang");
  if (!root || root.getAttribute("data-open") !== "1") { return; }
  var version = root.getAttribute("data-version");

  function schedule() { setTimeout(check, 1500 + Math.random() * 1000); }

  function check() {
    fetch(root.getAttribute("data-status"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (state && (String(state.version) !== version || state.status !== "open")) {
          window.location.replace(window.location.pathname);
          return;
        }
        schedule();
      })
      .catch(schedule);
  }

  schedule();
})();
