// A "print" button for pages made to be printed (the monthly report).
document.addEventListener('click', function (e) {
  if (e.target.closest && e.target.closest('[data-print]')) window.print();
});
