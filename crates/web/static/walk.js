// The walk list on a phone: visits go straight to the server when there is
// signal; without it they wait on the phone (localStorage), each with an id
// chosen here, and are sent as one batch when the connection returns. The
// server records an id once, so sending twice is harmless. A service worker
// keeps today's list for stairwells and basements.
(function () {
  var KEY = 'yijia.visits.queue';
  var root = document.getElementById('walk');
  if (!root) return;
  var status = document.getElementById('queue-status');
  var csrf = (function () {
    try { return JSON.parse(document.body.getAttribute('hx-headers') || '{}')['X-CSRF-Token'] || ''; } catch (e) { return ''; }
  })();

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/static/sw.js', { scope: '/walk' }).catch(function () {});
  }
  var print = document.getElementById('print');
  if (print) print.addEventListener('click', function () { window.print(); });

  function newId() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return 'phone-' + Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || '[]'); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); }
  function show(text) {
    if (!status) return;
    status.hidden = !text;
    status.textContent = text || '';
  }
  function showQueue() {
    var q = load();
    show(q.length ? q.length + ' ' + root.dataset.queued + ' · ' + root.dataset.offline : '');
  }

  // the form as the API takes it
  function visitOf(form) {
    var f = new FormData(form);
    var v = { client_id: newId(), visited_at: new Date().toISOString() };
    var household = f.get('household');
    if (household) v.household_id = Number(household); else v.resident_id = Number(f.get('resident_id'));
    ['mode', 'health', 'living', 'needs', 'safety'].forEach(function (k) { if (f.get(k)) v[k] = f.get(k); });
    ['notes', 'next_visit_on'].forEach(function (k) { var x = (f.get(k) || '').trim(); if (x) v[k] = x; });
    var cat = f.get('case_category');
    if (cat) v['case'] = { category: cat, description: f.get('case_description') || '', at_risk: (f.get('case_at_risk') || '').trim() || null };
    return v;
  }

  function count(id, by) {
    var el = document.getElementById(id);
    if (el) el.textContent = String(Math.max(0, Number(el.textContent) + by));
  }
  // the counts at the top follow what she logs (and undoes)
  function tally(li, by) {
    var l = li.dataset.lateness;
    if (l === 'overdue' || l === 'escalated') count('n-late', -by); else count('n-due', -by);
    if (l === 'escalated') count('n-escalated', -by);
    count('n-done', by);
  }
  // an "all well" on the wrong person can be taken back for a minute
  function offerUndo(li, result, undo) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'small undo';
    b.textContent = root.dataset.undo;
    result.appendChild(b);
    var timer = setTimeout(function () { b.remove(); }, 60000);
    b.addEventListener('click', function () {
      clearTimeout(timer);
      b.disabled = true;
      undo().then(function (ok) {
        b.remove();
        if (!ok) return;
        li.classList.remove('visited');
        tally(li, -1);
        result.textContent = root.dataset.undone;
      });
    });
  }

  function done(form, text, undo) {
    var li = form.closest('li.person');
    if (li) {
      if (!li.classList.contains('visited')) tally(li, 1);
      li.classList.add('visited');
      var r = li.querySelector('.result');
      if (r) {
        r.hidden = false;
        r.textContent = text;
        if (undo) offerUndo(li, r, undo);
      }
      var d = form.closest('details');
      if (d) d.open = false;
    } else {
      show(text);
      form.reset();
    }
  }

  function undoSent(id) {
    return function () {
      return fetch('/api/v1/visits/' + id, {
        method: 'DELETE', credentials: 'same-origin',
        headers: { 'X-CSRF-Token': csrf, 'Accept-Language': document.documentElement.lang }
      }).then(function (res) {
        if (res.ok) return true;
        return res.json().then(function (b) { show((b.error && b.error.message) || String(res.status)); return false; });
      }).catch(function () { return false; });
    };
  }
  function undoQueued(clientId) {
    return function () {
      var q = load();
      var left = q.filter(function (x) { return x.client_id !== clientId; });
      save(left);
      showQueue();
      return Promise.resolve(left.length < q.length);
    };
  }

  function post(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'Accept-Language': document.documentElement.lang },
      body: JSON.stringify(body)
    });
  }

  var sending = false;
  function flush() {
    var q = load();
    if (!q.length || sending || !navigator.onLine) { showQueue(); return; }
    sending = true;
    var batch = q.slice(0, 100);
    post('/api/v1/visits/batch', { visits: batch }).then(function (res) {
      if (res.status === 401) { show(root.dataset.relogin); return null; }
      return res.ok ? res.json() : null;
    }).then(function (body) {
      if (!body) return;
      var answered = {};
      body.results.forEach(function (r) { answered[r.client_id] = r; });
      var failed = [];
      save(load().filter(function (v) {
        var r = answered[v.client_id];
        if (r && r.status === 'refused') failed.push(r.message);
        return !r;
      }));
      showQueue();
      if (failed.length) show(failed.join(';'));
    }).catch(function () { showQueue(); }).then(function () {
      sending = false;
      if (load().length && navigator.onLine) setTimeout(flush, 5000);
    });
  }

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains('visit')) return;
    var photo = form.querySelector('input[type=file]');
    var hasPhoto = photo && photo.files && photo.files.length;
    if (hasPhoto) {
      // a photo goes with the form itself, and needs a connection
      if (!navigator.onLine) { e.preventDefault(); show(root.dataset.photo); }
      return;
    }
    e.preventDefault();
    var v = visitOf(form);
    var queue = function () {
      var q = load(); q.push(v); save(q);
      done(form, root.dataset.offline, undoQueued(v.client_id));
      showQueue();
    };
    if (!navigator.onLine) { queue(); return; }
    post('/api/v1/visits', v).then(function (res) {
      return res.json().then(function (body) { return { res: res, body: body }; });
    }).then(function (r) {
      if (r.res.ok) {
        if (r.body.case_id) { window.location.href = '/cases/' + r.body.case_id + '?visit=recorded'; return; }
        done(form, root.dataset.sent + ' ✓', r.body.recorded_now ? undoSent(r.body.id) : null);
      } else if (r.res.status === 401) {
        queue(); show(root.dataset.relogin);
      } else {
        show((r.body.error && r.body.error.message) || String(r.res.status));
      }
    }).catch(queue);
  });

  window.addEventListener('online', flush);
  window.addEventListener('offline', showQueue);
  flush();
})();
