// footfall dashboard: the page is complete without this script (server rendered);
// the script adds the chart, live visitor count, tabs and submit-on-change pickers.
(function () {
  "use strict";

  var ACCENT = "#4f46e5";
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var REALTIME_MS = 30000;

  // -- pickers: submit on change; "Custom range" waits for its dates -----------------------
  function setUpPickers() {
    var selects = document.querySelectorAll("select[data-autosubmit]");
    Array.prototype.forEach.call(selects, function (select) {
      select.addEventListener("change", function () {
        if (select.value === "custom") {
          var range = select.form.querySelector(".custom-range");
          if (range) range.removeAttribute("data-when-custom");
          var from = select.form.querySelector("input[name=from]");
          if (from) from.focus();
          return;
        }
        select.form.submit();
      });
    });
  }

  // -- cards with tabs: swap in the chosen table without reloading the page ----------------
  // A tab is a link to the same view with another table; the server renders just that
  // card at /dashboard/card/<param>, and the address bar keeps the shareable link.
  function setUpTabs() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("[data-tab-card] .tablist a");
      if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      var card = link.closest("[data-tab-card]");
      event.preventDefault();
      card.setAttribute("aria-busy", "true");
      fetch("/dashboard/card/" + card.getAttribute("data-tab-card") + link.search)
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          card.replaceWith(holder.firstElementChild);
          history.replaceState(null, "", location.pathname + link.search);
          var current = document.querySelector("#" + card.id + " [aria-current]");
          if (current) current.focus();
        })
        .catch(function () { location.href = link.href; });
    });
  }

  // -- chart ---------------------------------------------------------------------------------
  function formatValue(metric, value) {
    if (value === null || value === undefined) return "—";
    if (metric === "bounce_rate") return Math.round(value) + "%";
    if (metric === "visit_duration") {
      var s = Math.round(value), m = Math.floor(s / 60);
      return m ? m + "m " + String(s % 60).padStart(2, "0") + "s" : s + "s";
    }
    if (metric === "views_per_visit") return value.toFixed(2);
    return Math.round(value).toLocaleString("en-US");
  }

  function formatTime(granularity, seconds) {
    var d = new Date(seconds * 1000);
    if (granularity === "hour") return String(d.getUTCHours()).padStart(2, "0") + ":00";
    if (granularity === "month") return MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear();
    return MONTHS[d.getUTCMonth()] + " " + d.getUTCDate();
  }

  function setUpChart() {
    var holder = document.getElementById("chart");
    var source = document.getElementById("chart-data");
    if (!holder || !source || typeof window.uPlot !== "function") return;
    var data = JSON.parse(source.textContent);
    var buttons = Array.prototype.slice.call(document.querySelectorAll(".kpi[data-metric]"));
    var plot = null;

    function draw(metric) {
      if (plot) plot.destroy();
      holder.setAttribute("aria-label", data.names[metric] + " by " + data.granularity);
      var width = Math.max(holder.clientWidth, 200);
      plot = new window.uPlot({
        width: width,
        height: 260,
        cursor: { y: false, points: { size: 7 } },
        scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, Math.max(max * 1.1, 1)]; } } },
        legend: { show: true, live: true },
        axes: [
          {
            stroke: "#4b5563",
            grid: { show: false },
            values: function (u, splits) { return splits.map(function (v) { return formatTime(data.granularity, v); }); },
          },
          {
            stroke: "#4b5563",
            grid: { stroke: "#eef0f3" },
            size: 56,
            values: function (u, splits) { return splits.map(function (v) { return formatValue(metric, v); }); },
          },
        ],
        series: [
          { label: data.granularity.charAt(0).toUpperCase() + data.granularity.slice(1), value: function (u, v) { return v == null ? "—" : formatTime(data.granularity, v); } },
          {
            label: data.names[metric],
            stroke: ACCENT,
            width: 2,
            fill: "rgba(79, 70, 229, 0.10)",
            points: { show: data.x.length <= 31 },
            spanGaps: false,
            value: function (u, v) { return formatValue(metric, v); },
          },
        ],
      }, [data.x, data.series[metric]], holder);
    }

    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        buttons.forEach(function (other) { other.setAttribute("aria-pressed", other === button ? "true" : "false"); });
        draw(button.getAttribute("data-metric"));
      });
    });
    draw(buttons.length ? buttons[0].getAttribute("data-metric") : "visitors");
    var width = holder.clientWidth;
    new ResizeObserver(function () {
      if (plot && holder.clientWidth !== width) {
        width = holder.clientWidth;
        plot.setSize({ width: Math.max(width, 200), height: 260 });
      }
    }).observe(holder);
  }

  // -- realtime visitors ------------------------------------------------------------------------
  function setUpRealtime() {
    var count = document.getElementById("realtime-count");
    if (!count) return;
    var url = "/dashboard/realtime?app=" + encodeURIComponent(count.getAttribute("data-app"));
    function refresh() {
      if (document.hidden) return;
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body) return;
          count.textContent = String(body.visitors);
          var rest = count.nextSibling;
          if (rest && rest.nodeType === 3) {
            rest.textContent = " current visitor" + (body.visitors === 1 ? "" : "s") + " ";
          }
        })
        .catch(function () { /* offline for a moment: keep the last number */ });
    }
    setInterval(refresh, REALTIME_MS);
    document.addEventListener("visibilitychange", refresh);
  }

  setUpPickers();
  setUpTabs();
  setUpChart();
  setUpRealtime();
})();
