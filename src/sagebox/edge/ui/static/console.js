/* sagebox console: charts (uPlot) and live updates by polling; no other dependencies.
   window.sagebox.charts maps a chart's name to its uPlot instance (the browser tests read
   the points each chart draws from there). */
(function () {
  "use strict";
  var sagebox = (window.sagebox = { charts: {}, updates: 0 });
  var COLORS = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989"];

  function chartWidth(el) {
    return Math.max(320, Math.min(560, (el.parentElement || el).clientWidth - 8));
  }

  function drawChart(container, name, xs, ys, xLabel, index, points, time, range) {
    var data = [xs, ys];
    var existing = sagebox.charts[name];
    if (existing) {
      existing.setData(data);
      return existing;
    }
    var box = document.createElement("div");
    box.className = "chart";
    box.setAttribute("data-chart", name);
    container.appendChild(box);
    var opts = {
      title: name,
      width: chartWidth(container),
      height: 220,
      scales: { x: range ? { time: !!time, range: range } : { time: !!time } },
      series: [
        { label: xLabel },
        {
          label: name,
          stroke: COLORS[index % COLORS.length],
          width: 2,
          points: { show: !!points, size: 7 }
        }
      ],
      axes: [{ label: xLabel }, {}]
    };
    if (points) {
      opts.series[1].paths = function () { return null; };
    }
    var chart = new uPlot(opts, data, box);
    sagebox.charts[name] = chart;
    return chart;
  }

  /* Several named series on one x axis (null where a series has no value). */
  function drawSeries(container, spec) {
    var box = document.createElement("div");
    box.className = "chart";
    box.setAttribute("data-chart", spec.name);
    container.appendChild(box);
    var series = [{ label: spec.xLabel || "" }];
    var data = [spec.x];
    spec.series.forEach(function (s, i) {
      series.push({ label: s.label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true, points: { show: true, size: 5 } });
      data.push(s.y);
    });
    sagebox.charts[spec.name] = new uPlot(
      { title: spec.name, width: chartWidth(container), height: 240, scales: { x: { time: false } },
        series: series, axes: [{ label: spec.xLabel || "" }, {}] },
      data, box);
  }

  function text(el, value) {
    if (el) el.textContent = value == null ? "" : String(value);
  }

  /* A training job: one chart per metric, and the job's state refreshed while it runs. */
  function trainingJob(node) {
    var charts = document.getElementById("charts");
    function render(state) {
      Object.keys(state.metrics).sort().forEach(function (name, i) {
        var values = state.metrics[name].value;
        var steps = state.metrics[name].step; /* a long curve comes thinned: its steps say which */
        drawChart(charts, name, steps, values, "step", i, false);
      });
      var status = document.getElementById("job-status");
      if (status) {
        status.innerHTML = "";
        var badge = document.createElement("span");
        badge.className = "status " + state.statusClass;
        badge.textContent = state.status;
        status.appendChild(badge);
      }
      text(document.getElementById("job-secondary"), state.secondaryStatus);
      var failure = document.getElementById("job-failure");
      if (failure) {
        text(failure, state.failureReason);
        failure.hidden = !state.failureReason;
      }
      var log = document.getElementById("log");
      if (log) {
        var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        text(log, state.log.join("\n"));
        if (atEnd) log.scrollTop = log.scrollHeight;
      }
      var actions = document.getElementById("job-actions");
      if (actions) actions.hidden = !state.running;
      text(document.getElementById("job-time"), state.trainingTime == null ? "" : state.trainingTime + " s");
      text(document.getElementById("log-note"),
        "(the last " + state.log.length + " lines" + (state.running ? ", updating" : "") + ")");
      var transitions = document.getElementById("transitions");
      if (transitions) {
        transitions.innerHTML = "";
        state.transitions.forEach(function (t) {
          var row = document.createElement("tr");
          [t.status, t.started, t.message].forEach(function (v) {
            var cell = document.createElement("td");
            cell.textContent = v;
            row.appendChild(cell);
          });
          transitions.appendChild(row);
        });
      }
      var table = document.querySelector("#final-metrics tbody");
      if (table && state.finalMetrics.length) {
        table.innerHTML = "";
        state.finalMetrics.forEach(function (m) {
          var row = document.createElement("tr");
          row.setAttribute("data-metric", m.MetricName);
          [m.MetricName, m.Value, (state.metrics[m.MetricName] || { count: 0 }).count].forEach(function (v) {
            var cell = document.createElement("td");
            cell.textContent = String(v);
            row.appendChild(cell);
          });
          table.appendChild(row);
        });
      }
      sagebox.state = state;
    }
    var state = JSON.parse(node.textContent);
    render(state);
    var url = node.getAttribute("data-live");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (next) {
          render(next);
          sagebox.updates += 1;
          if (next.running) setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    if (state.running) setTimeout(poll, 1000);
  }

  /* Charts declared in the page: <script type="application/json" class="chart-data">
     {"name", "x", "y", "xLabel", "points"} inside a .charts container. */
  function declaredCharts(root) {
    root.querySelectorAll("script.chart-data").forEach(function (node, i) {
      var spec = JSON.parse(node.textContent);
      if (sagebox.charts[spec.name]) {
        sagebox.charts[spec.name].destroy();
        delete sagebox.charts[spec.name];
      }
      if (spec.series) {
        drawSeries(node.parentElement, spec);
      } else if (spec.x.length) {
        drawChart(node.parentElement, spec.name, spec.x, spec.y, spec.xLabel || "", i, spec.points, spec.time, spec.range);
      }
    });
  }

  /* A page part marked data-refresh="ms" is fetched again and swapped in, while the
     server keeps the mark on it (it drops it once nothing there is running). */
  function refreshing(el) {
    var every = parseInt(el.getAttribute("data-refresh"), 10) || 3000;
    function again() {
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById(el.id);
          if (!fresh) return;
          el.innerHTML = fresh.innerHTML;
          declaredCharts(el);
          sagebox.updates += 1;
          if (fresh.hasAttribute("data-refresh")) setTimeout(again, every);
        })
        .catch(function () { setTimeout(again, every * 2); });
    }
    setTimeout(again, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("pre.log").forEach(function (log) {
      log.scrollTop = log.scrollHeight; // a log's tail is its news
    });
    var state = document.getElementById("job-state");
    if (state) trainingJob(state);
    declaredCharts(document);
    document.querySelectorAll("[data-refresh]").forEach(refreshing);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  });
})();
