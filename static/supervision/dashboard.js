/* The dashboard's charts and map (Apache ECharts, served from static/vendor: no CDN, no tile server). Each chart sits
   in a titled panel (templates/admin/hlht_dashboard.html), so the charts draw no titles of their own. A status
   series takes its colour from its status (data.status_colours, from apps/stations/choices.STATUS_COLOURS), never
   from its position. */
(function () {
  "use strict";
  var script = document.currentScript;
  var data = JSON.parse(document.getElementById("dashboard-charts").textContent);
  var ACCENT = "#1f5f9f";
  var AMBER = "#f9a825";
  var count = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 0 });
  var oneDecimal = new Intl.NumberFormat("zh-CN", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  function chart(id, height) {
    var element = document.getElementById(id);
    if (!element) { return null; }
    if (height) { element.style.height = height + "px"; }
    return echarts.init(element, null, { renderer: "canvas" });
  }
  var axisLabel = { color: "#4b5563", fontSize: 12 };

  // Districts as horizontal bars: every district's name is written on its own line, however many there are.
  var rows = data.districts.length;
  var districts = chart("chart-districts", Math.max(260, rows * 30 + 90));
  if (districts) {
    districts.setOption({
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) { return count.format(v); } },
      legend: { top: 8, left: 12, right: 12, itemWidth: 12, itemHeight: 12 },
      grid: { left: 12, right: 24, top: 48, bottom: 12, containLabel: true },
      yAxis: { type: "category", data: data.districts, inverse: true, axisLabel: Object.assign({ interval: 0 }, axisLabel),
               axisTick: { show: false } },
      xAxis: { type: "value", minInterval: 1, axisLabel: axisLabel },
      series: data.statuses.map(function (label, i) {
        return { name: label, type: "bar", stack: "all", barMaxWidth: 22, color: data.status_colours[i],
                 itemStyle: { color: data.status_colours[i] },
                 data: data.by_district.map(function (row) { return row[i]; }) };
      })
    });
  }
  var hours = chart("chart-hours");
  if (hours) {
    hours.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return count.format(v) + " 次"; } },
      grid: { left: 12, right: 24, top: 24, bottom: 12, containLabel: true },
      xAxis: { type: "category", data: data.hours, axisLabel: Object.assign({ interval: 0 }, axisLabel) },
      yAxis: { type: "value", minInterval: 1, axisLabel: axisLabel },
      series: [{ name: "状态变化", type: "line", data: data.per_hour, areaStyle: { opacity: 0.15 }, color: ACCENT, smooth: true }]
    });
  }
  var orders = chart("chart-orders");
  if (orders) {
    orders.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return count.format(v); } },
      legend: { top: 8, left: 12, right: 12, type: "scroll" },
      grid: { left: 12, right: 12, top: 60, bottom: 12, containLabel: true },
      xAxis: { type: "category", data: data.days.map(function (day) { return day.slice(5); }), axisLabel: axisLabel },
      yAxis: [{ type: "value", name: "订单（单）", minInterval: 1, axisLabel: axisLabel },
              { type: "value", name: "电量（kWh）", axisLabel: axisLabel, splitLine: { show: false } }],
      series: data.operator_orders.map(function (operator) {
        return { name: operator.name, type: "bar", stack: "orders", barMaxWidth: 36, data: operator.data };
      }).concat([{ name: "电量（kWh）", type: "line", yAxisIndex: 1, data: data.energy, color: AMBER,
                   tooltip: { valueFormatter: function (v) { return oneDecimal.format(v) + " kWh"; } } }])
    });
  }
  var map = chart("map");
  if (map) {
    Promise.all([fetch(script.dataset.geo).then(function (r) { return r.json(); }),
                 fetch(script.dataset.points, { credentials: "same-origin" }).then(function (r) { return r.json(); })])
      .then(function (loaded) {
        echarts.registerMap("beijing", loaded[0]);
        var stationUrl = loaded[1].station_url;
        map.setOption({
          tooltip: { formatter: function (p) {
            return p.seriesType === "scatter" ? p.value[3] + "<br>空闲 " + Math.round(p.value[2] * 100) + "%" : p.name;
          } },
          visualMap: { min: 0, max: 1, dimension: 2, seriesIndex: 0, calculable: true, left: 16, bottom: 16,
                       text: ["全部空闲", "无空闲"], inRange: { color: ["#c62828", "#f9a825", "#2e7d32"] } },
          geo: { map: "beijing", roam: true, layoutCenter: ["50%", "50%"], layoutSize: "96%",
                 itemStyle: { areaColor: "#f4f6f8", borderColor: "#90a4ae" },
                 label: { show: true, color: "#546e7a", fontSize: 12 },
                 labelLayout: { hideOverlap: true }, emphasis: { label: { show: true } } },
          series: [{ type: "scatter", coordinateSystem: "geo", symbolSize: 8, data: loaded[1].points }]
        });
        map.on("click", function (p) {
          if (p.seriesType === "scatter") { window.location.href = stationUrl.replace("/0/", "/" + p.value[4] + "/"); }
        });
        document.getElementById("map").dataset.ready = String(loaded[1].points.length);
      });
  }
  window.addEventListener("resize", function () {
    [districts, hours, orders, map].forEach(function (c) { if (c) { c.resize(); } });
  });
})();
