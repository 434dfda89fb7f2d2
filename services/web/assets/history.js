/* global document, window, uPlot */
// The history page's charts: errors and warnings per commit, and new (up) and fixed (down) per commit
// as bars. The numbers come from the chart element's data-history attribute (no inline script: the CSP).
"use strict";

(function () {
  var el = document.getElementById("history-chart");
  var deltaEl = document.getElementById("delta-chart");
  if (!el || !deltaEl || typeof uPlot === "undefined") return;
  var d = JSON.parse(el.getAttribute("data-history") || "{}");
  if (!d.shas || d.shas.length === 0) {
    el.textContent = "No analysed commit yet.";
    return;
  }
  var xs = d.shas.map(function (_s, i) {
    return i;
  });
  var short = function (i) {
    var s = d.shas[Math.round(i)];
    return s ? s.slice(0, 7) : "";
  };
  var day = function (i) {
    var t = d.dates[Math.round(i)];
    return t ? t.slice(0, 10) : "";
  };
  var xAxis = {
    stroke: "#6b7385",
    grid: { show: false },
    // Whole commits only, at least a label's width apart.
    space: 80,
    incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    values: function (_u, ticks) {
      return ticks.map(function (t) {
        return Number.isInteger(t) ? short(t) : "";
      });
    },
  };
  var yAxis = { stroke: "#6b7385", grid: { stroke: "#eef0f4" } };
  var cursor = { sync: { key: "farm-history" }, points: { size: 7 } };
  var commitLabel = function (_u, i) {
    return i == null ? "" : short(i) + " · " + day(i);
  };

  function width() {
    return Math.max(el.clientWidth, 300);
  }

  // Clicking a point opens its commit.
  function openOnClick(u) {
    u.over.addEventListener("click", function () {
      var i = u.cursor.idx;
      if (i == null) return;
      window.location.href = "/commit?repo=" + encodeURIComponent(d.repo) + "&sha=" + encodeURIComponent(d.shas[i]);
    });
    u.over.style.cursor = "pointer";
  }

  var bars = uPlot.paths.bars({ size: [0.6, 24] });
  // Half a commit of room at each end, so the first and last bars are whole.
  var padded = function (_u, min, max) {
    return [min - 0.5, max + 0.5];
  };
  // A zero draws no bar (null), rather than a flat line.
  var bar = function (v) {
    return v ? v : null;
  };
  // Both charts share the commit axis, the cursor and click-to-open; only their series differ.
  var chart = function (height, series, data, target) {
    var options = {
      width: width(),
      height: height,
      cursor: cursor,
      scales: { x: { time: false, range: padded } },
      axes: [xAxis, yAxis],
      series: [{ label: "commit", value: commitLabel }].concat(series),
      hooks: { ready: [openOnClick] },
    };
    return new uPlot(options, [xs].concat(data), target);
  };
  var points = { show: d.shas.length < 60 };
  var lines = chart(
    260,
    [
      { label: "errors", stroke: "#c9342f", width: 2, fill: "rgba(201,52,47,0.07)", points: points },
      { label: "warnings", stroke: "#d69e2e", width: 2, points: points },
    ],
    [d.errors, d.warnings],
    el,
  );
  var negated = function (_u, v) {
    return v == null ? "" : String(-v);
  };
  var delta = chart(
    170,
    [
      { label: "new", stroke: "#c9342f", fill: "rgba(201,52,47,0.75)", paths: bars, points: { show: false } },
      { label: "fixed", stroke: "#1e8a4c", fill: "rgba(30,138,76,0.75)", paths: bars, points: { show: false }, value: negated },
    ],
    [
      d.new.map(bar),
      d.fixed.map(function (v) {
        return bar(-v);
      }),
    ],
    deltaEl,
  );
  window.addEventListener("resize", function () {
    lines.setSize({ width: width(), height: 260 });
    delta.setSize({ width: width(), height: 170 });
  });
})();
