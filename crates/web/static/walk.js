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

  function done(form, text) {
    var li = form.closest('li.person');
    if (li) {
      li.classList.add('visited');
      var r = li.querySelector('.result');
      if (r) { r.hidden = false; r.textContent = text; }
      var d = form.closest('details');
      if (d) d.open = false;
    } else {
      show(text);
      form.reset();
    }
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
      done(form, root.dataset.offline);
      showQueue();
    };
    if (!navigator.onLine) { queue(); return; }
    post('/api/v1/visits', v).then(function (res) {
      return res.json().then(function (body) { return { res: res, body: body }; });
    }).then(function (r) {
      if (r.res.ok) {
        if (r.body.case_id) { window.location.href = '/cases/' + r.body.case_id; return; }
        done(form, root.dataset.sent + ' ✓');
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
