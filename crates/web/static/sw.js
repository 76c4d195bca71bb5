// Keeps today's walk list and a roll-call's list (报平安) for places without
// signal: a list is fetched from the network when it can be and kept;
// without a network the kept copy is shown. Only those lists and the static
// assets are kept.
var CACHE = 'yijia-walk-v4';
var ASSETS = ['/static/app.css', '/static/walk.js', '/static/rollcall.js', '/static/htmx.min.js', '/static/icon.svg',
  '/static/bell.js'];

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(ASSETS); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  var walk = url.pathname === '/walk' || /^\/broadcasts\/\d+\/rollcall$/.test(url.pathname);
  if (!walk && url.pathname.indexOf('/static/') !== 0) return;
  e.respondWith(fetch(req).then(function (res) {
    // a login page after an expired session is not today's list
    if (res.ok && !res.redirected) {
      var copy = res.clone();
      caches.open(CACHE).then(function (c) { c.put(walk ? url.pathname + url.search : req, copy); });
    }
    return res;
  }).catch(function () {
    return caches.open(CACHE).then(function (c) {
      return c.match(walk ? url.pathname + url.search : req).then(function (hit) {
        return hit || (walk ? c.match(url.pathname) : undefined) || Response.error();
      });
    });
  }));
});
