// indipyweb's own script: htmx settings, group tabs, live plots (uPlot). No inline scripts.
(function () {
  "use strict";
  // Show 4xx answers (a bad number, a missing CSRF token) where the result goes, not nowhere.
  htmx.config.responseHandling = [
    {code: "204", swap: false},
    {code: "[23]..", swap: true},
    {code: "[4]..", swap: true, error: false},
    {code: "...", swap: true, error: true},
  ];
  var plots = new Map();

  function activateTabs() {
    var body = document.getElementById("device-body");
    if (!body) return;
    var key = "indipyweb-tab:" + body.dataset.device;
    var panels = body.querySelectorAll(".tab");
    if (!panels.length) return;
    var wanted = sessionStorage.getItem(key);
    var names = Array.prototype.map.call(panels, function (p) { return p.dataset.tab; });
    if (names.indexOf(wanted) < 0) wanted = names[0];
    body.classList.add("tabbed");
    panels.forEach(function (p) { p.classList.toggle("active", p.dataset.tab === wanted); });
    body.querySelectorAll(".tab-button").forEach(function (b) {
      b.setAttribute("aria-selected", b.dataset.tab === wanted ? "true" : "false");
      b.onclick = function () { sessionStorage.setItem(key, b.dataset.tab); activateTabs(); };
    });
  }

  function drawPlot(dataEl) {
    var target = document.getElementById(dataEl.dataset.plot);
    if (!target || !target.closest("details[open]")) return;
    var payload = JSON.parse(dataEl.dataset.series);
    if (payload.data[0].length < 2) {  // one point makes no line (and a silly time axis)
      target.textContent = "The plot starts with the next value.";
      return;
    }
    var existing = plots.get(target.id);
    if (existing && existing.root.isConnected && existing.series.length === payload.data.length) {
      existing.setData(payload.data);
      return;
    }
    if (existing) { existing.destroy(); }
    target.innerHTML = "";
    var colours = ["#2b7de9", "#e9562b", "#2bb673", "#b62be9", "#e9b82b", "#555"];
    var series = [{}].concat(payload.labels.map(function (l, i) {
      return {label: l, stroke: colours[i % colours.length], width: 1.5};
    }));
    var card = target.closest(".vector") || target;
    var width = Math.max(200, Math.min((card.clientWidth || 600) - 44, 900));
    target.textContent = "";
    plots.set(target.id, new uPlot({width: width, height: 180, series: series, legend: {live: false},
                                    scales: {x: {time: true}}}, payload.data, target));
  }

  function drawPlots(root) {
    (root || document).querySelectorAll(".plotdata").forEach(drawPlot);
  }

  // A one-click switch button shows whether its member is On, from the live values above it
  // (those are what the SSE stream keeps current).
  function markSwitches(section) {
    section.querySelectorAll("button.swbtn").forEach(function (b) {
      var cell = section.querySelector('.live tr[data-member="' + CSS.escape(b.value) + '"] .sw');
      if (cell) b.setAttribute("aria-pressed", cell.classList.contains("on") ? "true" : "false");
    });
  }

  // Every element htmx puts into the page (the first load, each SSE part swapped in).
  htmx.onLoad(function (elt) {
    if (elt === document.body || elt.id === "device-body" || (elt.querySelector && elt.querySelector("#device-body"))) {
      activateTabs();
    }
    if (elt.classList && elt.classList.contains("live") && elt.closest) {
      var owner = elt.closest(".vector");
      if (owner) markSwitches(owner);
    }
    if (elt.classList && elt.classList.contains("plotdata")) drawPlot(elt);
    else if (elt.querySelectorAll) drawPlots(elt);
  });
  document.addEventListener("toggle", function (e) {
    if (e.target.matches && e.target.matches("details.plotbox") && e.target.open) {
      var section = e.target.closest(".vector");
      if (section) drawPlots(section);
    }
  }, true);
  // The stream's state, for the page and the tests: data-stream="open" once connected.
  document.addEventListener("htmx:sseOpen", function () { document.body.dataset.stream = "open"; });
  document.addEventListener("htmx:sseError", function () { document.body.dataset.stream = "error"; });
})();
