// RPO/RTO charts of a pair page, drawn with the vendored uPlot (portal/static/vendor/uplot). The data come from a
// json_script element: nothing here is built from the page's HTML.
(function () {
  "use strict";
  function draw(id, title, label, series) {
    var target = document.getElementById(id);
    if (!target || !series || !series[0].length) return;
    var opts = {
      title: title, width: Math.max(target.clientWidth, 320), height: 200,
      series: [{}, {label: label, stroke: "#0d6efd", width: 2, points: {show: true}}],
      axes: [{}, {label: "seconds"}],
    };
    target.textContent = "";
    new uPlot(opts, series, target);
  }
  function init() {
    var source = document.getElementById("pair-chart-data");
    if (!source || typeof uPlot === "undefined") return;
    var data = JSON.parse(source.textContent);
    draw("chart-sync-age", "Data at risk (sync age)", "sync age", data.sync_age);
    draw("chart-rto", "Time to recover of each role change", "RTO", data.rto);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
