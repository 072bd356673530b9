// Draws the client's trend chart from the JSON in #trend-data (no inline script: strict CSP).
"use strict";
(function () {
  function draw() {
    var canvas = document.getElementById("trend-chart");
    var source = document.getElementById("trend-data");
    if (!canvas || !source || typeof window.Chart === "undefined") {
      return;
    }
    var payload = JSON.parse(source.textContent);
    var chart = payload.chart;
    var colours = {
      team: "#2d6a8f", heard: "#c0582a", warmth: "#2f8a57", worth: "#7a4fa0", understood: "#b08a00"
    };
    // Distinct point shapes and dashes, so lines that coincide stay tellable apart.
    var shapes = ["circle", "rect", "triangle", "rectRot", "star"];
    var dashes = [[], [6, 3], [2, 2], [8, 3, 2, 3], [12, 4]];
    var datasets = chart.series.map(function (series, i) {
      var dimension = series.dimension;
      return {
        label: payload.names[dimension] || dimension,
        data: series.scores,
        borderColor: colours[dimension] || "#555",
        backgroundColor: colours[dimension] || "#555",
        borderWidth: 2,
        borderDash: dashes[i % dashes.length],
        pointStyle: shapes[i % shapes.length],
        pointRadius: 5,
        spanGaps: true,
        tension: 0.15
      };
    });
    new window.Chart(canvas, {
      type: "line",
      data: { labels: chart.labels, datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: {
            min: 1, max: 5,
            ticks: {
              stepSize: 1,
              callback: function (value) { return value + " " + (payload.levels[value] || ""); }
            }
          }
        },
        plugins: { legend: { position: "bottom", labels: { usePointStyle: true } } }
      }
    });
    canvas.setAttribute("data-rendered", "true");
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
