// The roll-call list on a phone (报平安): an answer goes straight to the
// server when there is signal; without it, it waits on the phone and goes
// when the connection returns (an answer sent twice is the same answer).
// The service worker keeps the list for stairwells without signal.
(function () {
  var KEY = 'yijia.rollcall.queue';
  var root = document.getElementById('rollcall');
  if (!root) return;
  var status = document.getElementById('rollcall-status');
  var csrf = (function () {
    try { return JSON.parse(document.body.getAttribute('hx-headers') || '{}')['X-CSRF-Token'] || ''; } catch (e) { return ''; }
  })();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/static/sw.js', { scope: '/broadcasts/' }).catch(function () {});
  }
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || '[]'); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); }
  function show(text) { if (status) { status.hidden = !text; status.textContent = text || ''; } }
  function showQueue() {
    var n = load().length;
    show(n ? n + ' ' + root.dataset.queued + ' · ' + root.dataset.offline : '');
  }
  function post(a) {
    return fetch('/api/v1/broadcasts/' + a.broadcast + '/rollcall/answer', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'Accept-Language': document.documentElement.lang },
      body: JSON.stringify({ resident_id: a.resident_id, answer: a.answer })
    });
  }
  // the person's line shows the answer at once, sent or waiting
  function mark(a, waiting) {
    var li = document.getElementById('p-' + a.resident_id);
    if (!li) return;
    li.dataset.state = a.answer;
    var tag = li.querySelector('.tag');
    var names = JSON.parse(root.dataset.names || '{}');
    if (tag) tag.textContent = (names[a.answer] || a.answer) + (waiting ? ' · ' + root.dataset.queued : '');
  }

  var sending = false;
  var stopped = false;
  function flush() {
    var q = load();
    if (!q.length || sending || stopped || !navigator.onLine) { showQueue(); return; }
    sending = true;
    var a = q[0];
    var wait = 1000;
    post(a).then(function (res) {
      // logged out: kept until she logs in again and opens the list
      if (res.status === 401) { stopped = true; show(root.dataset.relogin); return false; }
      if (res.ok) return true;
      // refused for good (the broadcast ended, not hers, a bad answer): dropped, and said
      if (res.status === 404 || res.status === 409 || res.status === 422) {
        return res.json().then(function (b) { show((b.error && b.error.message) || String(res.status)); return true; });
      }
      wait = 10000;
      return false;
    }).then(function (drop) {
      if (drop) { save(load().slice(1)); mark(a, false); }
    }).catch(function () { wait = 10000; }).then(function () {
      sending = false;
      showQueue();
      if (load().length && navigator.onLine && !stopped) setTimeout(flush, wait);
    });
  }

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains('answer')) return;
    var button = e.submitter;
    if (!button || !button.value) return;
    var a = {
      broadcast: Number(root.dataset.id),
      resident_id: Number(form.querySelector('input[name=resident_id]').value),
      answer: button.value
    };
    // online, the form goes as it is: the page comes back with the case link
    if (navigator.onLine) return;
    e.preventDefault();
    var q = load(); q.push(a); save(q);
    mark(a, true);
    showQueue();
  });

  window.addEventListener('online', flush);
  window.addEventListener('offline', showQueue);
  flush();
})();
