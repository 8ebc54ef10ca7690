/* The scorecard page's grade distribution (Apache ECharts from static/vendor). */
(function () {
  "use strict";
  // Drawn once the page has loaded (a theme may keep it hidden until then), and resized with its box.
  if (document.readyState === "complete") { draw(); } else { window.addEventListener("load", draw); }

  function draw() {
    var element = document.getElementById("grade-chart");
    if (!element) { return; }
    var data = JSON.parse(document.getElementById("board-data").textContent);
    var colours = { A: "#2e7d32", B: "#1565c0", C: "#f9a825", D: "#c62828" };
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      tooltip: { trigger: "axis" }, grid: { left: 50, right: 20, top: 30, bottom: 30 },
      xAxis: { type: "category", data: data.grades }, yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", label: { show: true, position: "top" }, data: data.counts.map(function (n, i) {
        return { value: n, itemStyle: { color: colours[data.grades[i]] || "#90a4ae" } };
      }) }]
    });
    element.dataset.ready = JSON.stringify(data.counts);
    new ResizeObserver(function () { chart.resize(); }).observe(element);  // the sidebar settles the width later
  }
})();
