"use strict";
(function () {
  // Colours by meaning, as the badges (console.css): red flags red, fine green.
  var meaning = { danger: "#b3261e", warn: "#c27c00", ok: "#1e7a3d", info: "#0b5cad", muted: "#8a939e" };

  function readTable(table) {
    var labels = [], values = [], colours = [];
    table.querySelectorAll("tbody tr").forEach(function (row) {
      labels.push(row.querySelector("th").textContent.trim());
      values.push(Number(row.querySelector("td").textContent.trim()) || 0);
      colours.push(meaning[row.dataset.meaning] || meaning.info);
    });
    return { labels: labels, values: values, colours: colours };
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
          backgroundColor: kind === "line" ? "rgba(11,92,173,.15)" : data.colours,
          borderColor: kind === "line" ? "#0b5cad" : data.colours,
          fill: kind === "line",
          tension: 0.2
        }]
      },
      options: {
        indexAxis: kind === "hbar" ? "y" : "x",
        onClick: function (event, elements) {
          if (!elements.length) { return; }
          var row = table.querySelectorAll("tbody tr")[elements[0].index];
          var link = row && row.querySelector("a[href]");
          if (link) { window.location.href = link.getAttribute("href"); }
        },
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
