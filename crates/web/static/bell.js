// The bell's count of unread messages and the banner of emergency
// broadcasts: asked for when a page loads and every 30 s while it stays
// open, only with signal (on a stairwell without one, the walk list works
// offline and the bell waits quietly).
(function () {
  var bell = document.getElementById('bell');
  var alerts = document.getElementById('alerts');
  if (!bell) return;
  function fill(url, el) {
    if (!el) return;
    fetch(url, { credentials: 'same-origin' })
      // a session that ended answers with the login page: leave things be
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (t) { if (t !== null) el.innerHTML = t; })
      .catch(function () {});
  }
  function ask() {
    if (!navigator.onLine) return;
    fill('/messages/count', bell);
    fill('/broadcasts/banner', alerts);
  }
  ask();
  setInterval(ask, 30000);
})();
