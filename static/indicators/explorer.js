/* The indicator explorer's map by district and trend (Apache ECharts from static/vendor); a click opens the trace. */
(function () {
  "use strict";
  var script = document.currentScript;
  // Drawn once the page has loaded: a theme may keep the page hidden until its scripts ran, and a chart started
  // earlier would draw for no box.
  if (document.readyState === "complete") { draw(); } else { window.addEventListener("load", draw); }

  function draw() {
    var data = JSON.parse(document.getElementById("explorer-data").textContent);
    var mapElement = document.getElementById("ind-map");
    var trendElement = document.getElementById("ind-trend");
    if (!mapElement || !trendElement) { return; }
    var unit = data.unit === "%" ? " %" : " " + data.unit;
    var values = data.map.map(function (d) { return d.value; }).filter(function (v) { return v !== null; });
    var trend = echarts.init(trendElement, null, { renderer: "canvas" });
    trend.setOption({
      tooltip: { trigger: "axis" }, legend: { top: 4, right: 8 },
      grid: { left: 60, right: 20, top: 40, bottom: 40 },
      xAxis: { type: "category", data: data.trend.starts },
      // A share lies in 0–100 %: the axis stays inside it (ECharts' own bounds put a single point between 40 and 160).
      yAxis: data.unit === "%" ? {
        type: "value", name: data.unit, scale: true,
        min: function (v) { return Math.max(0, Math.floor(v.min - (v.max - v.min) * 0.1 - 1)); },
        max: function (v) { return Math.min(100, Math.ceil(v.max + (v.max - v.min) * 0.1 + 1)); }
      } : { type: "value", name: data.unit, scale: true },
      series: data.trend.series.map(function (s) {
        return { name: s.name, type: "line", data: s.data, connectNulls: false, symbolSize: 8 };
      })
    });
    trend.on("click", function (p) {
      var url = data.trend.series[p.seriesIndex].traces[p.dataIndex];
      if (url) { window.location.href = url; }
    });
    trendElement.dataset.points = JSON.stringify(data.trend.series.map(function (s) { return s.data; }));
    var map = echarts.init(mapElement, null, { renderer: "canvas" });
    fetch(script.dataset.geo).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("beijing", geo);
      map.setOption({
        tooltip: { formatter: function (p) {
          return p.name + "<br>" + (p.value === undefined || isNaN(p.value) ? "无数据" : p.value + unit);
        } },
        visualMap: { min: values.length ? Math.min.apply(null, values) : 0,
                     max: values.length ? Math.max.apply(null, values) : 1, calculable: true, left: 8, bottom: 8,
                     inRange: { color: ["#fff3e0", "#ef6c00", "#b71c1c"] } },
        series: [{ type: "map", map: "beijing", roam: true, label: { show: true, fontSize: 10 },
                   itemStyle: { areaColor: "#f4f6f8", borderColor: "#90a4ae" },
                   data: data.map.map(function (d) { return { name: d.name, value: d.value, trace: d.trace }; }) }]
      });
      map.on("click", function (p) { if (p.data && p.data.trace) { window.location.href = p.data.trace; } });
      mapElement.dataset.ready = JSON.stringify(data.map.map(function (d) { return [d.name, d.value]; }));
    });
    // Drawn before the admin's sidebar settles the content's width: follow each box's size, not the window's.
    [[trend, trendElement], [map, mapElement]].forEach(function (pair) {
      new ResizeObserver(function () { pair[0].resize(); }).observe(pair[1]);
    });
  }
})();
