// The spoke workspace: keeps the board of the centre's tokens live from its server-sent event
// stream (each `board` event is the board again, rendered by the server's own template), and
// prints a printout. EventSource reconnects by itself after a drop; a stream that ended for good
// or went silent past its keepalive is reopened here. The call itself is call.js.
(function () {
  'use strict';
  var print = document.getElementById('print');
  if (print) print.addEventListener('click', function () { window.print(); });

  var board = document.getElementById('spoke-board');
  if (!board || !window.EventSource) return;
  var connection = document.getElementById('connection');
  var source = null;
  var retryMs = 1000;
  var watchdog = null;
  var retry = null;
  // The server sends a keepalive every 15 s; three missed means the connection is dead.
  var SILENCE_MS = 45000;

  function live(isLive) {
    connection.className = 'live-status ' + (isLive ? 'live' : 'down');
    connection.textContent = isLive ? connection.dataset.live : connection.dataset.reconnecting;
    board.dataset.connected = isLive ? 'true' : 'false';
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

  function connect() {
    clearTimeout(retry);
    if (source) source.close();
    source = new EventSource(board.dataset.events);
    source.addEventListener('open', function () { retryMs = 1000; heard(); });
    source.addEventListener('board', function (event) {
      heard();
      live(true);
      // Our own server's HTML, escaped by its templates; it carries no script.
      board.innerHTML = event.data;
      board.dataset.updates = String(Number(board.dataset.updates || 0) + 1);
    });
    source.addEventListener('keepalive', function () { heard(); live(true); });
    source.addEventListener('error', function () {
      live(false);
      if (source.readyState === EventSource.CLOSED) reopen();
    });
  }

  window.addEventListener('online', function () {
    if (board.dataset.connected !== 'true') { retryMs = 1000; connect(); }
  });
  window.addEventListener('offline', function () { live(false); });
  connect();
})();
