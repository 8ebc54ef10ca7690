/* The dashboard's charts and map (Apache ECharts, served from static/vendor: no CDN, no tile server). */
(function () {
  "use strict";
  var script = document.currentScript;
  var data = JSON.parse(document.getElementById("dashboard-charts").textContent);
  function chart(id) {
    var element = document.getElementById(id);
    return element ? echarts.init(element, null, { renderer: "canvas" }) : null;
  }
  var districts = chart("chart-districts");
  if (districts) {
    districts.setOption({
      title: { text: "各区充电接口当前状态", left: 8, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" }, legend: { top: 4, right: 8 }, color: data.status_colours,
      grid: { left: 50, right: 20, top: 50, bottom: 30 },
      xAxis: { type: "category", data: data.districts }, yAxis: { type: "value" },
      series: data.statuses.map(function (label, i) {
        return { name: label, type: "bar", stack: "all", data: data.by_district.map(function (row) { return row[i]; }) };
      })
    });
  }
  var hours = chart("chart-hours");
  if (hours) {
    hours.setOption({
      title: { text: "今日每小时状态变化", left: 8, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" }, grid: { left: 50, right: 20, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.hours }, yAxis: { type: "value" },
      series: [{ type: "line", data: data.per_hour, areaStyle: {}, color: "#1565c0" }]
    });
  }
  var orders = chart("chart-orders");
  if (orders) {
    orders.setOption({
      title: { text: "近30天每日订单（按运营商）与电量", left: 8, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" }, legend: { top: 26, left: 8, right: 8, type: "scroll" },
      grid: { left: 50, right: 50, top: 76, bottom: 30 },
      xAxis: { type: "category", data: data.days },
      yAxis: [{ type: "value", name: "单" }, { type: "value", name: "kWh" }],
      series: data.operator_orders.map(function (operator) {
        return { name: operator.name, type: "bar", stack: "orders", data: operator.data };
      }).concat([{ name: "电量", type: "line", yAxisIndex: 1, data: data.energy, color: "#f9a825" }])
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
          title: { text: "充电站分布（颜色：空闲接口占比）", left: 8, textStyle: { fontSize: 14 } },
          tooltip: { formatter: function (p) {
            return p.seriesType === "scatter" ? p.value[3] + "<br>空闲 " + Math.round(p.value[2] * 100) + "%" : p.name;
          } },
          visualMap: { min: 0, max: 1, dimension: 2, seriesIndex: 0, calculable: true, left: 8, bottom: 8,
                       text: ["全部空闲", "无空闲"], inRange: { color: ["#c62828", "#f9a825", "#2e7d32"] } },
          geo: { map: "beijing", roam: true, itemStyle: { areaColor: "#f4f6f8", borderColor: "#90a4ae" },
                 label: { show: true, color: "#546e7a", fontSize: 11 } },
          series: [{ type: "scatter", coordinateSystem: "geo", symbolSize: 6, data: loaded[1].points }]
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
