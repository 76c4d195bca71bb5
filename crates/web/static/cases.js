// The new-case form: "add my location" fills the hidden lon/lat fields from
// the phone's position and tells the duplicate hint to look again.
(function () {
  var button = document.getElementById('locate');
  if (!button) return;
  var status = document.getElementById('locate-status');
  button.addEventListener('click', function () {
    if (!navigator.geolocation) { status.textContent = button.dataset.failed; return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      document.getElementById('lon').value = p.coords.longitude.toFixed(6);
      document.getElementById('lat').value = p.coords.latitude.toFixed(6);
      status.textContent = button.dataset.done;
      document.getElementById('lon').dispatchEvent(new Event('change', { bubbles: true }));
    }, function () { status.textContent = button.dataset.failed; }, { timeout: 10000 });
  });
})();
