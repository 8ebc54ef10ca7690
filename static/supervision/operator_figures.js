/* An operator's 30 days (apps/supervision/picture_panels.py): status mix now, orders and energy, crawls, pushes.
   ECharts from static/vendor, loaded here unless another panel on the page already did. */
(function () {
  "use strict";
  var script = document.currentScript;
  var data = JSON.parse(document.getElementById("operator-figures-data").textContent);
  var number = function (digits) {
    return function (value) {
      return Number(value).toLocaleString("zh-CN", { minimumFractionDigits: digits, maximumFractionDigits: digits });
    };
  };
  var count = number(0), kwh = number(1), yuan = number(2);

  // The page's own text colour (the admin's light or dark theme) for the charts' labels.
  var ink = getComputedStyle(document.getElementById("operator-figures")).color;

  function init(element) {
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({ textStyle: { color: ink }, legend: { textStyle: { color: ink } } });
    return chart;
  }

  function daily(element, series, unit) {
    var chart = init(element);
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return count(v) + " " + unit; } },
      legend: { top: 0, left: "center" },
      grid: { left: 56, right: 16, top: 40, bottom: 28 },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", minInterval: 1, axisLabel: { formatter: count } },
      series: series
    });
    return chart;
  }

  function outcome(element, figures, okName, failedName) {
    return daily(element, [
      { name: okName, type: "bar", stack: "all", data: figures.ok, color: data.outcome_colours.ok },
      { name: failedName, type: "bar", stack: "all", data: figures.failed, color: data.outcome_colours.failed }
    ], "次");
  }

  function start() {
    var charts = [];
    var status = init(document.getElementById("operator-chart-status"));
    var counts = {};
    data.status.forEach(function (s) { counts[s.name] = s.value; });
    status.setOption({
      tooltip: { trigger: "item", formatter: function (p) { return p.name + "：" + count(p.value) + " 个（" + p.percent + "%）"; } },
      // The counts in the legend, not beside the slices: seven labels around a ring collide and get cut.
      legend: { orient: "vertical", right: 16, top: "middle", formatter: function (name) { return name + "  " + count(counts[name]); } },
      series: [{
        name: "接口当前状态", type: "pie", radius: ["42%", "72%"], center: ["32%", "52%"], label: { show: false },
        data: data.status.map(function (s) { return { name: s.name, value: s.value, itemStyle: { color: s.colour } }; })
      }]
    });
    charts.push(status);
    var states = init(document.getElementById("operator-chart-states"));
    states.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "未计算" : kwh(v) + " 小时"; } },
      // Five states' names take two lines of legend in a half-width panel: the plot starts below them.
      legend: { top: 0, left: "center", itemGap: 8 },
      grid: { left: 56, right: 16, top: 60, bottom: 28 },
      xAxis: { type: "category", data: data.days },
      yAxis: { type: "value", axisLabel: { formatter: count } },
      series: data.states.map(function (s) {
        return { name: s.name, type: "bar", stack: "hours", data: s.hours, color: s.colour, barMaxWidth: 24 };
      })
    });
    var computed = data.states.some(function (s) { return s.hours.some(function (h) { return h !== null; }); });
    if (!computed) {
      // Time in state comes from the indicators' nightly run: an empty plot would read as zero hours.
      states.setOption({ title: { text: "尚无指标数据（接口时间构成每晚计算）", left: "center", top: "middle",
                                  textStyle: { fontSize: 13, fontWeight: "normal", color: ink } } });
    }
    charts.push(states);
    var orders = init(document.getElementById("operator-chart-orders"));
    orders.setOption({
      tooltip: { trigger: "axis", formatter: function (ps) {
        var i = ps[0].dataIndex;
        return data.days[i] + "<br>订单 " + count(data.orders.n[i]) + " 单<br>电量 " + kwh(data.orders.energy[i]) +
          " kWh<br>金额 " + yuan(data.orders.money[i]) + " 元";
      } },
      legend: { top: 0, left: "center" },
      grid: { left: 56, right: 64, top: 40, bottom: 28 },
      xAxis: { type: "category", data: data.days },
      yAxis: [{ type: "value", name: "单", minInterval: 1, axisLabel: { formatter: count } },
              { type: "value", name: "kWh", axisLabel: { formatter: kwh } }],
      series: [
        { name: "订单", type: "bar", data: data.orders.n, color: "#1565c0" },
        { name: "电量", type: "line", yAxisIndex: 1, data: data.orders.energy, color: "#f9a825", symbolSize: 4 }
      ]
    });
    charts.push(orders);
    charts.push(outcome(document.getElementById("operator-chart-crawls"), data.crawls, "成功", "失败"));
    charts.push(outcome(document.getElementById("operator-chart-pushes"), data.pushes, "已接收", "拒收"));
    // The page's width may still change after the charts are drawn (the admin's sidebar opens, a theme's layout
    // settles): each chart follows its own box, not the window.
    var watcher = new ResizeObserver(function () { charts.forEach(function (c) { c.resize(); }); });
    charts.forEach(function (c) { watcher.observe(c.getDom()); });
    document.getElementById("operator-figures").setAttribute("data-ready", "1");
  }

  if (window.echarts) {
    start();
  } else {
    var loader = document.createElement("script");
    loader.src = script.dataset.echarts;
    loader.onload = start;
    document.head.appendChild(loader);
  }
})();
