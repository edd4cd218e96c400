// The patient's web app (/app). Every page works without this script; it adds:
// - the token's status kept live (the status box is asked for again every few seconds with its
//   ETag, so an unchanged status costs a 304 and no page bytes);
// - one submit per form (a double tap sends the booking once; the server's idempotency key
//   makes sure of it even without this script);
// - the print button, and a confirmation before cancelling a token;
// - the offline worker (/app/sw.js) that keeps the prescriptions the patient opened.
(function () {
  'use strict';

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(function () {});
  }

  document.querySelectorAll('form[data-once]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = 'true';
      // After the browser has taken the pressed button's value into the form.
      setTimeout(function () {
        form.querySelectorAll('button[type=submit]').forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });

  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  document.querySelectorAll('[data-print]').forEach(function (button) {
    button.addEventListener('click', function () { window.print(); });
  });

  var live = document.getElementById('live');
  if (live && live.dataset.live) {
    var etag = null;
    var FINAL = ['completed', 'no_show', 'cancelled'];
    var statusOf = function () {
      var box = document.getElementById('live-box');
      return box ? box.dataset.status : '';
    };
    var poll = function () {
      if (FINAL.indexOf(statusOf()) >= 0) return;
      var headers = {};
      if (etag) headers['If-None-Match'] = etag;
      fetch(live.dataset.live, { headers: headers, credentials: 'same-origin', cache: 'no-store' })
        .then(function (response) {
          if (response.status === 401) { location.reload(); return null; }
          if (response.status === 304 || !response.ok) return null;
          etag = response.headers.get('ETag');
          return response.text();
        })
        .then(function (html) {
          if (html === null || html === undefined) return;
          var before = statusOf();
          live.innerHTML = html;
          var now = statusOf();
          if (now !== before) {
            live.closest('main').querySelectorAll('#cancel').forEach(function (b) {
              b.closest('form').hidden = now !== 'waiting';
            });
            if (now === 'called' && navigator.vibrate) navigator.vibrate([300, 150, 300]);
          }
        })
        .catch(function () { /* offline for a moment: the next poll tries again */ })
        .then(function () { setTimeout(poll, document.hidden ? 15000 : 3000); });
    };
    setTimeout(poll, 3000);
  }
})();
