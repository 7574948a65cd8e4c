"use strict";
(function () {
  var palette = ["#0b5cad", "#1e7a3d", "#8a5a00", "#b3261e", "#35507a", "#6b3fa0", "#00796b", "#5b6573"];

  function readTable(table) {
    var labels = [], values = [];
    table.querySelectorAll("tbody tr").forEach(function (row) {
      labels.push(row.querySelector("th").textContent.trim());
      values.push(Number(row.querySelector("td").textContent.trim()) || 0);
    });
    return { labels: labels, values: values };
  }

  function draw(canvas) {
    var table = document.getElementById(canvas.dataset.table);
    if (!table || typeof Chart === "undefined") { return; }
    var data = readTable(table);
    var kind = canvas.dataset.kind;
    new Chart(canvas, {
      type: kind === "line" ? "line" : "bar",
      data: {
        labels: data.labels,
        datasets: [{
          label: "Count",
          data: data.values,
          backgroundColor: kind === "line" ? "rgba(11,92,173,.15)" : palette,
          borderColor: kind === "line" ? "#0b5cad" : palette,
          fill: kind === "line",
          tension: 0.2
        }]
      },
      options: {
        indexAxis: kind === "hbar" ? "y" : "x",
        animation: false,
        responsive: true,
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
    canvas.closest(".chart").classList.add("drawn");
  }

  document.querySelectorAll("canvas.js-chart").forEach(draw);
})();
