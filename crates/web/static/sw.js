// Keeps today's walk list and a roll-call's list (报平安) for places without
// signal, and a resident's own pickup codes and appointments: a page is
// fetched from the network when it can be and kept; without a network the
// kept copy is shown. Only those pages and the static assets are kept; a
// resident's pages in a cache of their own, which the login page forgets.
var CACHE = 'yijia-walk-v5';
var MINE = 'yijia-mine';
var ASSETS = ['/static/app.css', '/static/walk.js', '/static/rollcall.js', '/static/htmx.min.js', '/static/icon.svg',
  '/static/bell.js', '/static/speak.js', '/static/mine.js'];

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(ASSETS); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE && k !== MINE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  var mine = url.pathname === '/me/shop' || url.pathname === '/me/stations';
  var walk = mine || url.pathname === '/walk' || /^\/broadcasts\/\d+\/rollcall$/.test(url.pathname);
  if (!walk && url.pathname.indexOf('/static/') !== 0) return;
  var store = mine ? MINE : CACHE;
  e.respondWith(fetch(req).then(function (res) {
    // a login page after an expired session is not today's list
    if (res.ok && !res.redirected) {
      var copy = res.clone();
      caches.open(store).then(function (c) { c.put(walk ? url.pathname + url.search : req, copy); });
    }
    return res;
  }).catch(function () {
    return caches.open(store).then(function (c) {
      return c.match(walk ? url.pathname + url.search : req).then(function (hit) {
        return hit || (walk ? c.match(url.pathname) : undefined) || Response.error();
      });
    });
  }));
});
