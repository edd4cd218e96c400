// The patient web app's offline worker (served at /app/sw.js, looking after /app/ only).
//
// It keeps the prescription pages the patient opened (and their list) so that they open again
// with the network off, and nothing else. Each answer of the server names its account in the
// X-Sanjeevani-Account header (a digest, or "none" when nobody is signed in): pages are filed
// under that name, only the current account's are ever shown, every other account's pages are
// deleted the moment a new account is seen, and all of them on "none" (signed out, session
// ended). Everything is fetched from the network first; the cache is only for when it fails.
'use strict';

var META = 'sanjeevani-meta';
var ACCOUNT_KEY = '/app/__account';
var SHELL = 'sanjeevani-shell';
var SHELL_FILES = ['/static/pages.css', '/static/app.js'];

function currentAccount() {
  return caches.open(META)
    .then(function (meta) { return meta.match(ACCOUNT_KEY); })
    .then(function (hit) { return hit ? hit.text() : null; });
}

function forgetAll() {
  return caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== SHELL; })
      .map(function (k) { return caches.delete(k); }));
  });
}

function becomeAccount(tag) {
  return currentAccount().then(function (current) {
    if (current === tag) return null;
    return forgetAll()
      .then(function () { return caches.open(META); })
      .then(function (meta) { return meta.put(ACCOUNT_KEY, new Response(tag)); });
  });
}

function isPrescriptionPage(url) {
  return url.pathname === '/app/prescriptions' || url.pathname.indexOf('/app/prescriptions/') === 0;
}

// Pages are filed by path: the language or another query reads the same record.
function keyOf(url) {
  return url.origin + url.pathname;
}

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(SHELL)
    .then(function (shell) { return shell.addAll(SHELL_FILES); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim());
});

function fromNetwork(request, url) {
  return fetch(request).then(function (response) {
    var tag = response.headers.get('X-Sanjeevani-Account');
    var settle = Promise.resolve();
    if (tag === 'none') {
      settle = forgetAll();
    } else if (tag) {
      settle = becomeAccount(tag).then(function () {
        if (request.method !== 'GET' || !response.ok || !isPrescriptionPage(url)) return null;
        var copy = response.clone();
        return caches.open('rx-' + tag).then(function (pages) { return pages.put(keyOf(url), copy); });
      });
    }
    return settle.then(function () { return response; });
  });
}

function offline(request, url) {
  return currentAccount().then(function (tag) {
    if (!tag) return Response.error();
    return caches.open('rx-' + tag).then(function (pages) {
      return pages.match(keyOf(url)).then(function (hit) {
        // Any other app page offline: the list of prescriptions kept, if there is one.
        return hit || pages.match(url.origin + '/app/prescriptions');
      });
    }).then(function (hit) { return hit || Response.error(); });
  });
}

self.addEventListener('fetch', function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname.indexOf('/app') === 0) {
    event.respondWith(fromNetwork(request, url).catch(function () {
      return request.method === 'GET' ? offline(request, url) : Response.error();
    }));
  } else if (request.method === 'GET' && SHELL_FILES.indexOf(url.pathname) >= 0) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(SHELL).then(function (shell) { shell.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (hit) { return hit || Response.error(); });
    }));
  }
});
