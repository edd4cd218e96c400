// The waiting-room board: applies each `board` event of the session's stream to the page, with
// no reload. EventSource reconnects by itself after a drop; if the stream ends for good (the
// server restarting, an error answer) or goes silent past the keepalive, it is reopened here.
(function () {
  "use strict";
  var root = document.getElementById("board");
  if (!root) return;
  var session = root.dataset.session;
  var connection = document.getElementById("connection");
  var source = null;
  var retryMs = 1000;
  var watchdog = null;
  var retry = null;
  // The server sends a keepalive every 15 s; three missed means the connection is dead.
  var SILENCE_MS = 45000;

  function list(id, tokens) {
    var el = document.getElementById(id);
    el.replaceChildren.apply(el, tokens.map(function (t) {
      var li = document.createElement("li");
      li.textContent = t;
      return li;
    }));
  }

  function text(id, value) {
    document.getElementById(id).textContent = value;
  }

  function live(isLive) {
    connection.className = isLive ? "live" : "down";
    connection.textContent = isLive ? connection.dataset.live : connection.dataset.reconnecting;
    root.dataset.connected = isLive ? "true" : "false";
  }

  function apply(board) {
    list("now-serving", board.now_serving);
    list("next", board.next);
    text("waiting", board.waiting);
    text("doctors-online", board.doctors_online);
    text("expected-wait", board.expected_wait_minutes == null
      ? root.dataset.none
      : root.dataset.minutes.replace("{m}", board.expected_wait_minutes));
    var asOf = document.getElementById("as-of");
    asOf.setAttribute("datetime", board.as_of);
    asOf.textContent = new Date(board.as_of).toLocaleTimeString(document.documentElement.lang + "-IN",
      { hour: "numeric", minute: "2-digit", second: "2-digit", timeZone: "Asia/Kolkata" });
    root.dataset.version = board.version;
  }

  function heard() {
    clearTimeout(watchdog);
    watchdog = setTimeout(reopen, SILENCE_MS);
  }

  function reopen() {
    if (source) source.close();
    clearTimeout(watchdog);
    live(false);
    clearTimeout(retry);
    retry = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 30000);
  }

  // One stream at a time: a reconnect scheduled by reopen() is dropped when another starts.
  function connect() {
    clearTimeout(retry);
    if (source) source.close();
    source = new EventSource("/api/v1/opd-sessions/" + encodeURIComponent(session) + "/events");
    source.addEventListener("open", function () { retryMs = 1000; heard(); });
    source.addEventListener("board", function (event) {
      heard();
      live(true);
      apply(JSON.parse(event.data));
    });
    source.addEventListener("keepalive", function () { heard(); live(true); });
    source.addEventListener("error", function () {
      live(false);
      if (source.readyState === EventSource.CLOSED) reopen();
    });
  }

  // Back online: reconnect now rather than at the next retry.
  window.addEventListener("online", function () {
    if (root.dataset.connected !== "true") {
      retryMs = 1000;
      connect();
    }
  });
  window.addEventListener("offline", function () { live(false); });

  connect();
})();
