/* The dashboard's charts and map (Apache ECharts, served from static/vendor: no CDN, no tile server). Each chart sits
   in a titled panel (templates/admin/hlht_dashboard.html), so the charts draw no titles of their own. A status
   series takes its colour from its status (data.status_colours, from apps/stations/choices.STATUS_COLOURS), never
   from its position. */
(function () {
  "use strict";
  var script = document.currentScript;
  // Drawn once the page is laid out: the theme keeps the page hidden (x-cloak) until its scripts start, and a chart
  // started in a hidden box would draw for a box of no size. Each chart then follows its box's size.
  window.addEventListener("load", draw);

  function draw() {
    var data = JSON.parse(document.getElementById("dashboard-charts").textContent);
    // The theme's primary colour (settings.UNFOLD), as the page's CSS variables carry it.
    var ACCENT = getComputedStyle(document.documentElement).getPropertyValue("--color-primary-600").trim();
    var AMBER = "#f9a825";
    var LABEL_AT = { "门头沟区": [115.86, 39.98], "海淀区": [116.21, 40.04], "朝阳区": [116.53, 39.97],
                     "石景山区": [116.17, 39.93], "丰台区": [116.22, 39.83], "房山区": [115.88, 39.70],
                     "大兴区": [116.42, 39.63], "通州区": [116.73, 39.80] };
    var UNLABELLED = ["东城区", "西城区"];
    var count = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 0 });
    var oneDecimal = new Intl.NumberFormat("zh-CN", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    function chart(id, height) {
      var element = document.getElementById(id);
      if (!element) { return null; }
      if (height) { element.style.height = height + "px"; }
      var instance = echarts.init(element, null, { renderer: "canvas" });
      new ResizeObserver(function () { instance.resize(); }).observe(element);
      return instance;
    }
    var axisLabel = { color: "#4b5563", fontSize: 12 };

    // Districts as horizontal bars: every district's name is written on its own line, however many there are.
    var rows = data.districts.length;
    var districts = chart("chart-districts", Math.max(260, rows * 30 + 90));
    if (districts) {
      districts.setOption({
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
                   valueFormatter: function (v) { return count.format(v); } },
        legend: { top: 8, left: 12, right: 12, itemWidth: 12, itemHeight: 12 },
        grid: { left: 12, right: 24, top: 48, bottom: 12, containLabel: true },
        yAxis: { type: "category", data: data.districts, inverse: true,
                 axisLabel: Object.assign({ interval: 0 }, axisLabel),
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
        series: [{ name: "状态变化", type: "line", data: data.per_hour, areaStyle: { opacity: 0.15 }, color: ACCENT }]
      });
    }
    var orders = chart("chart-orders");
    if (orders) {
      orders.setOption({
        tooltip: { trigger: "axis", valueFormatter: function (v) { return count.format(v); } },
        // Every operator's name in full, the legend wrapping onto a second line rather than paging.
        legend: { bottom: 8, left: 12, right: 12 },
        grid: { left: 12, right: 12, top: 36, bottom: 64, containLabel: true },
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
      var points = fetch(script.dataset.points, { credentials: "same-origin" });
      Promise.all([fetch(script.dataset.geo).then(function (r) { return r.json(); }),
                   points.then(function (r) { return r.json(); })])
        .then(function (loaded) {
          // A district's name is written at its "cp", which the boundary file sets at the district's seat: for the
          // districts around the centre that puts five names on top of each other. Here the names sit inside their
          // districts; 东城 and 西城, too small to hold a name at this size, are named on hover.
          loaded[0].features.forEach(function (feature) {
            var at = LABEL_AT[feature.properties.name];
            if (at) { feature.properties.cp = at; }
          });
          echarts.registerMap("beijing", loaded[0]);
          var stationUrl = loaded[1].station_url;
          map.setOption({
            tooltip: { formatter: function (p) {
              return p.seriesType === "scatter" ? p.value[3] + "<br>空闲 " + Math.round(p.value[2] * 100) + "%" : p.name;
            } },
            visualMap: { min: 0, max: 1, dimension: 2, seriesIndex: 0, calculable: true, right: 16, bottom: 16,
                         text: ["全部空闲", "无空闲"], inRange: { color: ["#c62828", "#f9a825", "#2e7d32"] } },
            geo: { map: "beijing", roam: true, layoutCenter: ["50%", "50%"], layoutSize: "96%",
                   itemStyle: { areaColor: "#f4f6f8", borderColor: "#90a4ae" },
                   label: { show: true, color: "#455a64", fontSize: 12 },
                   regions: UNLABELLED.map(function (name) { return { name: name, label: { show: false } }; }),
                   emphasis: { label: { show: true } } },
            series: [{ type: "scatter", coordinateSystem: "geo", symbolSize: 8, data: loaded[1].points }]
          });
          map.on("click", function (p) {
            if (p.seriesType === "scatter") {
              window.location.href = stationUrl.replace("/0/", "/" + p.value[4] + "/");
            }
          });
          document.getElementById("map").dataset.ready = String(loaded[1].points.length);
        });
    }
  }
})();
