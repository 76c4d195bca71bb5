// A resident's own pickup codes and appointments stay readable without
// signal: the worker keeps the last copy of 爱心超市 and 服务站预约 (under
// /me/) and shows it when the network is gone.
(function () {
  'use strict';
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/static/sw.js', { scope: '/me/' }).catch(function () {});
  }
})();
