// Draws the report charts from the JSON the page carries; the tables under each chart hold the same figures.
(function () {
  "use strict";

  var source = document.getElementById("report-data");
  if (!source || typeof window.Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#0969da", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#57606a"];

  // The x-axis label of a row: its first column, with the severity for the response-time rows.
  function label(row, columns) {
    if (columns[0] === "measure" && columns[1] === "severity") { return row[0] + " (" + row[1] + ")"; }
    if (columns[0] === "target") { return row[0] + " (" + row[1] + ", " + row[2] + ")"; }
    return String(row[0]);
  }

  // name -> chart type, value columns, and the y axis title
  var CHARTS = {
    volume: { type: "bar", series: ["opened", "closed"], y: "cases" },
    response_times: { type: "bar", series: ["median_hours", "p90_hours"], y: "hours" },
    breach_by_category: { type: "bar", series: ["breach_rate_pct"], y: "% breached", max: 100 },
    breach_by_severity: { type: "bar", series: ["breach_rate_pct"], y: "% breached", max: 100 },
    escalations: { type: "bar", series: ["escalated_cases"], y: "cases" },
    reopens: { type: "line", series: ["reopen_rate_pct"], y: "% reopened", max: 100 },
    satisfaction_trend: { type: "line", series: ["average_rating"], y: "average (1-5)", min: 1, max: 5 },
    satisfaction_distribution: { type: "bar", series: ["responses"], y: "answers" },
    onboarding: { type: "bar", series: ["median_hours", "p90_hours"], y: "hours" },
    wip: { type: "bar", series: ["open_tasks", "unclaimed", "overdue"], y: "tasks" },
    sla_targets: { type: "bar", series: ["attainment_pct"], y: "% met", max: 100 },
    sla_teams: { type: "bar", series: ["attainment_pct"], y: "% met", max: 100 },
    sla_agents: { type: "bar", series: ["attainment_pct"], y: "% met", max: 100 }
  };

  function draw(canvas) {
    var name = canvas.dataset.chart;
    var table = data[name];
    var spec = CHARTS[name];
    if (!table || !spec || table.rows.length === 0) { canvas.parentNode.hidden = true; return; }
    var datasets = spec.series.map(function (column, index) {
      var at = table.columns.indexOf(column);
      return {
        label: column.replace(/_pct$/, " %").replace(/_hours$/, "").replace(/_/g, " "),
        data: table.rows.map(function (row) { return row[at]; }),
        backgroundColor: colours[index % colours.length],
        borderColor: colours[index % colours.length],
        spanGaps: true
      };
    });
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: table.rows.map(function (row) { return label(row, table.columns); }), datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { beginAtZero: spec.min === undefined, min: spec.min, max: spec.max,
                       title: { display: true, text: spec.y } } },
        plugins: { legend: { display: datasets.length > 1 } }
      }
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
