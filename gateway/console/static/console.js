/* The console's one script: draws each <div class="chart"> from its data-series JSON with
   ECharts (served by the gateway, static/vendor/). No inline script anywhere: the pages'
   Content-Security-Policy allows scripts from the gateway only. */
(function () {
  "use strict";
  var COLOURS = ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037"];

  function axisChart(d, type) {
    return {
      color: COLOURS,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 50, right: 20, top: 40, bottom: 60 },
      xAxis: { type: "category", data: d.labels, axisLabel: { rotate: d.labels.length > 8 ? 30 : 0 } },
      yAxis: { type: "value", name: d.unit || "" },
      series: d.series.map(function (s) {
        return { name: s.name, type: type, data: s.values, smooth: false, stack: d.stacked ? "all" : undefined,
                 label: { show: type === "bar" && !d.stacked && d.labels.length <= 12, position: "top" } };
      })
    };
  }

  var BUILD = {
    funnel: function (d) {
      return {
        color: COLOURS,
        tooltip: { trigger: "item", formatter: "{b}: {c}" },
        series: [{ type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "8%", gap: 2,
                   label: { show: true, position: "inside", formatter: "{b} {c}" },
                   data: d.labels.map(function (l, i) { return { name: l, value: d.values[i] }; }) }]
      };
    },
    bar: function (d) { return axisChart(d, "bar"); },
    line: function (d) { return axisChart(d, "line"); },
    pie: function (d) {
      return {
        color: COLOURS,
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["35%", "70%"],
                   data: d.labels.map(function (l, i) { return { name: l, value: d.values[i] }; }) }]
      };
    },
    tiles: function (d) {
      // A schematic map: one square per district at its tile (x, y), coloured by value.
      var names = {};
      d.tiles.forEach(function (t) { names[t.x + "," + t.y] = t.name; });
      var xs = [], ys = [], i;
      for (i = 0; i <= d.width; i++) { xs.push(String(i)); }
      for (i = 0; i <= d.height; i++) { ys.push(String(i)); }
      return {
        tooltip: { formatter: function (p) { return names[p.value[0] + "," + p.value[1]] + ": " + p.value[2]; } },
        grid: { left: 10, right: 10, top: 10, bottom: 50 },
        xAxis: { type: "category", data: xs, show: false },
        yAxis: { type: "category", data: ys, show: false, inverse: true },
        visualMap: { min: 0, max: Math.max(1, d.max), calculable: true, orient: "horizontal", left: "center", bottom: 0,
                     text: [d.unit || "", ""], inRange: { color: ["#fff3e0", "#ffb74d", "#e65100", "#8d1b00"] } },
        series: [{ type: "heatmap", itemStyle: { borderColor: "#fff", borderWidth: 3 },
                   label: { show: true, fontSize: 11,
                            formatter: function (p) { return names[p.value[0] + "," + p.value[1]] + "\n" + p.value[2]; } },
                   data: d.tiles.map(function (t) { return [t.x, t.y, t.value]; }) }]
      };
    }
  };

  function points(option) {
    return option.series.reduce(function (n, s) { return n + s.data.length; }, 0);
  }

  function draw() {
    var charts = document.querySelectorAll(".chart[data-chart]");
    Array.prototype.forEach.call(charts, function (el) {
      var build = BUILD[el.getAttribute("data-chart")];
      if (!build || typeof echarts === "undefined") { return; }
      var option = build(JSON.parse(el.getAttribute("data-series")));
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      el.setAttribute("data-points", String(points(option)));
      window.addEventListener("resize", function () { chart.resize(); });
    });
    document.documentElement.setAttribute("data-charts-ready", "1");
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
}());
