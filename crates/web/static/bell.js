// The bell's count of unread messages: asked for when a page loads and
// every 30 s while it stays open, only with signal (on a stairwell without
// one, the walk list works offline and the bell waits quietly).
(function () {
  var bell = document.getElementById('bell');
  if (!bell) return;
  function ask() {
    if (!navigator.onLine) return;
    fetch('/messages/count', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (t) { if (t !== null) bell.innerHTML = t; })
      .catch(function () {});
  }
  ask();
  setInterval(ask, 30000);
})();
