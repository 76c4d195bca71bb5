// The dashboard's trends, drawn by ECharts (vendored) from the months the
// page carries; the table behind each chart is on the page, one tap away.
(function () {
  var data = document.getElementById('trend-data');
  if (!data || !window.echarts) return;
  var months = JSON.parse(data.getAttribute('data-months'));
  var names = JSON.parse(data.getAttribute('data-names'));
  var x = months.map(function (m) { return m.month.slice(2); });
  var col = function (f) { return months.map(function (m) { return m[f]; }); };
  var charts = [];
  function draw(id, series) {
    var el = document.getElementById(id);
    if (!el) return;
    var c = echarts.init(el, null, { renderer: 'svg' });
    c.setOption({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 40, right: 12, top: 30, bottom: 24 },
      xAxis: { type: 'category', data: x },
      yAxis: { type: 'value', minInterval: 1 },
      series: series,
    });
    charts.push(c);
  }
  draw('chart-cases', [
    { name: names.filed, type: 'bar', data: col('filed') },
    { name: names.resolved, type: 'bar', data: col('resolved') },
  ]);
  draw('chart-visits', [{ name: names.visits, type: 'line', data: col('visits') }]);
  draw('chart-points', [
    { name: names.points_issued, type: 'line', data: col('points_issued') },
    { name: names.points_redeemed, type: 'line', data: col('points_redeemed') },
  ]);
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
})();
