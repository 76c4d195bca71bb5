// On the login page: the copies a resident's phone kept of his own pages
// (pickup codes, appointments) are forgotten, so the next person on a
// shared phone cannot read them offline.
(function () {
  'use strict';
  if ('caches' in window) caches.delete('yijia-mine').catch(function () {});
})();
