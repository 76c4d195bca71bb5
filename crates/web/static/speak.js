// 朗读: reads a notice, a case's result, a pickup code or an appointment
// aloud with the browser's own Mandarin speech (no network). The buttons
// stay hidden where the browser cannot speak.
(function () {
  'use strict';
  if (!('speechSynthesis' in window)) return;
  document.querySelectorAll('button.speak').forEach(function (b) {
    b.hidden = false;
    b.addEventListener('click', function () {
      var el = document.getElementById(b.dataset.speak);
      if (!el) return;
      var copy = el.cloneNode(true);
      copy.querySelectorAll('button, form').forEach(function (x) { x.remove(); });
      var text = copy.textContent.replace(/\s+/g, ' ').trim();
      // a code is read one character at a time: "取货码 A 7 K 2"
      if (el.dataset.spell) text = el.dataset.spell + ' ' + text.split('').join(' ');
      window.speechSynthesis.cancel();
      var u = new SpeechSynthesisUtterance(text);
      u.lang = 'zh-CN';
      u.rate = 0.85;
      window.speechSynthesis.speak(u);
    });
  });
})();
