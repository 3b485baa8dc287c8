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

  // The open tab: the one the user chose in this browser tab, else the one shown before a
  // redraw (a tab does not change under the user's eyes), else the device's main tab (the
  // server's data-main: where its own controls are, views.main_group), else the first.
  var shownTab = {};
  function activateTabs() {
    var body = document.getElementById("device-body");
    if (!body) return;
    var device = body.dataset.device;
    var key = "indipyweb-tab:" + device;
    var panels = body.querySelectorAll(".tab");
    if (!panels.length) return;
    var names = Array.prototype.map.call(panels, function (p) { return p.dataset.tab; });
    var choices = [sessionStorage.getItem(key), shownTab[device], body.dataset.main, names[0]];
    var wanted = choices.filter(function (c) { return names.indexOf(c) >= 0; })[0];
    shownTab[device] = wanted;
    body.classList.add("tabbed");
    panels.forEach(function (p) { p.classList.toggle("active", p.dataset.tab === wanted); });
    body.querySelectorAll(".tab-button").forEach(function (b) {
      b.setAttribute("aria-selected", b.dataset.tab === wanted ? "true" : "false");
    });
  }

  // A redrawn body carries the old one's classes ("tabbed") until it settles (htmx settles
  // class attributes so) but no open tab: every group was hidden in that moment, the page
  // blinked and the field being typed in lost its focus. The open tab is chosen as it swaps.
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    if (e.detail && e.detail.target && e.detail.target.id === "device-body") activateTabs();
  });

  // One listener for every tab button, so a button in a body just swapped in (not yet
  // settled, see below) answers a click too.
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("#device-body .tab-button") : null;
    if (!b) return;
    sessionStorage.setItem("indipyweb-tab:" + b.closest("#device-body").dataset.device, b.dataset.tab);
    activateTabs();
  });

  // Each plot's data as this page holds it: the whole history comes with a vector drawn
  // whole (the page, a definition, the stream reconnected); a live part swapped in alone
  // brings only its newest samples ("tail", the history's "size"), appended here, the older
  // ones dropped as the server's history drops them. (Each update carried the whole history,
  // 9 KB for the imager agent's PROGRESS, every second of a night.)
  var plotData = new Map();
  function plotSeries(dataEl) {
    var id = dataEl.dataset.plot;
    var payload = JSON.parse(dataEl.dataset.series);
    var held = plotData.get(id);
    if (!payload.tail || !held || held.data.length !== payload.data.length) {
      held = {labels: payload.labels, data: payload.data.map(function (column) { return column.slice(); })};
      plotData.set(id, held);
      return held;
    }
    var times = held.data[0];
    var last = times.length ? times[times.length - 1] : -Infinity;
    payload.data[0].forEach(function (t, i) {
      if (t <= last) return;  // held already (a part swapped in again, the plot opened)
      held.data.forEach(function (column, c) { column.push(payload.data[c][i]); });
    });
    var extra = times.length - payload.size;
    if (extra > 0) held.data.forEach(function (column) { column.splice(0, extra); });
    held.labels = payload.labels;
    return held;
  }

  function drawPlot(dataEl) {
    var target = document.getElementById(dataEl.dataset.plot);
    if (!target) return;
    var payload = plotSeries(dataEl);
    if (!target.closest("details[open]")) return;
    target.dataset.points = payload.data[0].length;  // how many it draws (for tests)
    if (payload.data[0].length < 2) {  // one point makes no line (and a silly time axis)
      target.textContent = "The plot starts with the next value.";
      return;
    }
    var width = plotWidth(target);
    var shared = sharedAxis(payload, width);
    var existing = plots.get(target.id);
    if (existing && existing.root.isConnected && existing.series.length === payload.data.length &&
        existing.shared === shared) {
      existing.setData(shared ? toShares(payload.data) : payload.data);
      if (shared) nameRanges(existing, payload);
      return;
    }
    if (existing) { existing.destroy(); }
    target.innerHTML = "";
    var plot = new uPlot(plotOptions(payload, width, shared), shared ? toShares(payload.data) : payload.data, target);
    plot.shared = shared;
    if (shared) nameRanges(plot, payload);
    plots.set(target.id, plot);
    target.dataset.axes = shared ? "shared" : "each";  // which way it is drawn (for tests)
    if (sizes) sizes.observe(target);
    var note = document.createElement("p");
    note.className = "plotnote";
    note.textContent = "Times in " + timeZone + ", your browser's time zone.";
    target.appendChild(note);
  }

  var colours = ["#2b7de9", "#e9562b", "#2bb673", "#b62be9", "#c99a00", "#555"];
  // The time axis and the legend in the browser's own locale and time zone.
  var timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
  var clock = new Intl.DateTimeFormat(undefined, {hour: "2-digit", minute: "2-digit", second: "2-digit"});
  var day = new Intl.DateTimeFormat(undefined, {month: "short", day: "numeric"});
  var stamp = new Intl.DateTimeFormat(undefined, {dateStyle: "medium", timeStyle: "medium"});
  var number = new Intl.NumberFormat(undefined, {maximumSignificantDigits: 8});
  // a shared axis's legend: seven members' values and ranges in a card 300 px wide
  var brief = new Intl.NumberFormat(undefined, {maximumSignificantDigits: 3});

  function plotWidth(target) {
    return Math.max(220, Math.min(target.clientWidth || 600, 1200));  // 0 while its tab is hidden
  }

  // A plot follows its box's width: the window, a tab shown, the image column appearing.
  var sizes = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var plot = plots.get(entry.target.id);
      var width = Math.round(entry.contentRect.width);
      if (!plot || width <= 0 || !plot.root.isConnected || Math.abs(plot.width - width) <= 2) return;
      var dataEl = document.querySelector('.plotdata[data-plot="' + CSS.escape(entry.target.id) + '"]');
      var held = plotData.get(entry.target.id);
      if (dataEl && held && sharedAxis(held, plotWidth(entry.target)) !== plot.shared) {
        drawPlot(dataEl);  // the axes fit no more (or again): drawn the other way
      } else {
        plot.setSize({width: plotWidth(entry.target), height: 200});
      }
    });
  });

  // An axis as wide as its longest label, so no label is cut off.
  function fitAxis(self, values, axisIdx, cycleNum) {
    var axis = self.axes[axisIdx];
    if (cycleNum > 1) return axis._size;
    var size = axis.ticks.size + axis.gap + 4;
    var longest = (values || []).reduce(function (a, v) { return String(v).length > a.length ? String(v) : a; }, "");
    if (longest) { self.ctx.font = axis.font[0]; size += self.ctx.measureText(longest).width / (window.devicePixelRatio || 1); }
    if (axis.label) size += 18;
    return Math.ceil(size);
  }

  // What an axis of `column`'s numbers needs, as fitAxis measures it once drawn: its ticks,
  // gap and title, and its longest label (the wider of the lowest and highest, a digit more
  // for a tick between them).
  var AXIS_FONT = "12px system-ui, -apple-system, \"Segoe UI\", Roboto, \"Helvetica Neue\", Arial, \"Noto Sans\", sans-serif";  // uPlot's
  var ruler = document.createElement("canvas").getContext("2d");
  function axisRoom(column, titled) {
    var finite = column.filter(Number.isFinite);
    var longest = finite.length ? [Math.min.apply(null, finite), Math.max.apply(null, finite)]
      .map(function (v) { return number.format(v) + "0"; })
      .reduce(function (a, b) { return b.length > a.length ? b : a; }) : "0";
    ruler.font = AXIS_FONT;
    return 10 + 5 + 4 + ruler.measureText(longest).width + (titled ? 18 : 0);
  }

  // The plot itself keeps at least this share of its width; an axis each (a temperature and a
  // power do not share one) while their axes leave it that, else one shared axis. Five axes
  // on a phone left it 40 px of 340, their titles over the numbers and the last one cut off.
  var PLOT_SHARE = 0.5;
  function sharedAxis(payload, width) {
    var n = payload.labels.length;
    if (n < 2) return false;
    var room = payload.data.slice(1).reduce(function (sum, column) { return sum + axisRoom(column, true); }, 0);
    return room > (1 - PLOT_SHARE) * (width - 18);  // the plot's padding, left and right
  }

  // Each member's lowest and highest (nulls, gaps, skipped).
  function extent(column) {
    var finite = column.filter(Number.isFinite);
    return finite.length ? [Math.min.apply(null, finite), Math.max.apply(null, finite)] : [0, 0];
  }

  // The data on one axis: each member as a share of its own range (0-100 %), a member that
  // has not changed at 50 %.
  function toShares(data) {
    return data.map(function (column, c) {
      if (c === 0) return column;
      var lohi = extent(column), span = lohi[1] - lohi[0];
      return column.map(function (v) { return v == null ? v : span > 0 ? 100 * (v - lohi[0]) / span : 50; });
    });
  }

  // On a shared axis the legend says each member's value now (its unit is in its label) and
  // the range its 0-100 % stands for.
  function nameRanges(plot, payload) {
    var rows = plot.root.querySelectorAll(".u-legend .u-series .u-label");
    var offset = rows.length - payload.labels.length;
    payload.labels.forEach(function (label, i) {
      var column = payload.data[i + 1], lohi = extent(column), now = column[column.length - 1];
      var text = label + ": " + (now == null ? "--" : brief.format(now)) +
        " (" + brief.format(lohi[0]) + "\u2013" + brief.format(lohi[1]) + ")";
      if (rows[i + offset]) rows[i + offset].textContent = text;
    });
  }

  function plotOptions(payload, width, shared) {
    var scales = {x: {time: true}};
    var series = [{label: "Time (" + timeZone + ")", value: function (u, v) { return v == null ? "--" : stamp.format(new Date(v * 1000)); }}];
    var axes = [{
      label: "Time (" + timeZone + ")", labelSize: 18, size: 48, space: 90,
      // whole seconds and up, each tick at least its label's width apart
      incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800],
      values: function (u, splits) {
        var span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
        var labels = splits.map(function (t) { var d = new Date(t * 1000); return span > 86400 ? day.format(d) : clock.format(d); });
        u.root.dataset.ticks = JSON.stringify(labels);  // what the time axis shows (for tests)
        return labels;
      },
    }];
    if (shared) {
      scales.share = {auto: false, range: [-4, 104]};  // a line at 0 or 100 % not on the edge
      axes.push({scale: "share", side: 3, label: "% of its range", labelSize: 18,
                 splits: function () { return [0, 25, 50, 75, 100]; },
                 values: function (u, splits) { return splits.map(function (v) { return v + " %"; }); },
                 size: fitAxis});
    }
    payload.labels.forEach(function (label, i) {
      // each member its own scale and axis (a temperature and a power do not share one)
      var key = shared ? "share" : "y" + i, colour = colours[i % colours.length];
      if (!shared) scales[key] = {auto: true};
      series.push({label: label, scale: key, stroke: colour, width: 1.5,
                   value: function (u, v) { return v == null ? "--" : number.format(v); }});
      if (shared) return;
      axes.push({scale: key, side: i % 2 ? 1 : 3, stroke: colour, grid: {show: i === 0},
                 label: payload.labels.length > 1 ? label : undefined, labelSize: 18,
                 values: function (u, splits) { return splits.map(function (v) { return number.format(v); }); },
                 size: fitAxis});
    });
    return {width: width, height: 200, series: series, scales: scales, axes: axes,
            legend: {live: false}, padding: [10, 12, 0, 6]};
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

  // An empty number field's hint is its member's value, from the live values above it: the
  // field itself is kept across redraws (hx-preserve), with the hint it was first drawn with.
  function hintNumbers(section) {
    section.querySelectorAll("form.setform input[inputmode=decimal][name^='m.']").forEach(function (field) {
      var cell = section.querySelector('.live tr[data-member="' + CSS.escape(field.name.slice(2)) + '"] td.value');
      if (cell) field.placeholder = cell.textContent.trim();
    });
  }

  // A text field starts as its member's text and follows the driver's text (Set sent the
  // first one back once it had changed), unless the operator has typed in it.
  function followTexts(section) {
    section.querySelectorAll("form.setform input[name^='m.']:not([type]):not([inputmode])").forEach(function (field) {
      var cell = section.querySelector('.live tr[data-member="' + CSS.escape(field.name.slice(2)) + '"] td.value');
      if (!cell) return;
      var shown = field.dataset.shown !== undefined ? field.dataset.shown : field.defaultValue;
      if (field.value === shown) field.value = cell.textContent;
      field.dataset.shown = cell.textContent;
    });
  }

  // So do an AnyOfMany vector's checkboxes (Set sent their first states back once another
  // client had changed one), except a box the operator has changed.
  function followChecks(section) {
    section.querySelectorAll("form.setform input[type=checkbox][name^='m.']").forEach(function (box) {
      var cell = section.querySelector('.live tr[data-member="' + CSS.escape(box.name.slice(2)) + '"] .sw');
      if (!cell) return;
      var on = cell.classList.contains("on");
      var shown = box.dataset.shown !== undefined ? box.dataset.shown === "on" : box.defaultChecked;
      if (box.checked === shown) box.checked = on;
      box.dataset.shown = on ? "on" : "off";
    });
  }

  // A box the operator changed is theirs only until its Set is answered, then it follows the
  // driver again: a push button the driver answers Off (the imager agent's Start batch)
  // stayed ticked, and the next Set (to tick Abort batch) started another batch. The answer
  // may come before the live values it brought or after them: either way the box ends as the
  // driver's state, since followChecks moves a box that shows what it was last shown.
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.detail.elt;
    if (!e.detail.successful || !form || !form.matches || !form.matches("form.setform")) return;
    var section = form.closest(".vector");
    if (!section) return;
    form.querySelectorAll("input[type=checkbox][name^='m.']").forEach(function (box) {
      var cell = section.querySelector('.live tr[data-member="' + CSS.escape(box.name.slice(2)) + '"] .sw');
      if (!cell) return;
      var on = cell.classList.contains("on");
      box.checked = on;
      box.dataset.shown = on ? "on" : "off";
    });
  });

  // A Set answered "Busy: under way" (the driver still at work when the server stopped
  // waiting: the imager agent's START, all night) is the vector's live state's to follow:
  // once that state is no longer Busy, the answer goes, so no stale Busy stays under a button.
  function settleAnswers(section) {
    var badge = section.querySelector(".live .badge");
    if (!badge || badge.classList.contains("state-busy")) return;
    section.querySelectorAll("output.result .result[data-follow=busy]").forEach(function (a) {
      a.remove();
    });
  }

  // Every element htmx puts into the page (the first load, each SSE part swapped in).
  htmx.onLoad(function (elt) {
    if (elt === document.body || elt.id === "device-body" || (elt.querySelector && elt.querySelector("#device-body"))) {
      activateTabs();
      document.querySelectorAll("#device-body section.vector").forEach(function (section) {
        hintNumbers(section);
        followTexts(section);
        followChecks(section);
      });
    }
    if (elt.classList && elt.classList.contains("live") && elt.closest) {
      var owner = elt.closest(".vector");
      if (owner) { markSwitches(owner); hintNumbers(owner); followTexts(owner); followChecks(owner); settleAnswers(owner); }
    }
    if (elt.closest && elt.closest("output.result") && elt.closest(".vector")) settleAnswers(elt.closest(".vector"));
    if (elt.classList && elt.classList.contains("plotdata")) drawPlot(elt);
    else if (elt.querySelectorAll) drawPlots(elt);
  });
  document.addEventListener("toggle", function (e) {
    if (e.target.matches && e.target.matches("details.plotbox") && e.target.open) {
      var section = e.target.closest(".vector");
      if (section) drawPlots(section);
    }
  }, true);
  // htmx binds a form the stream swapped in only as the swap settles (20 ms, more on a busy
  // machine). A submit in that moment (Enter pressed as a definition arrives) would post the
  // bare form, which carries no CSRF token (parts are shared between sessions): a 403 page.
  // Binding it here, before the event reaches the form, lets htmx take that submit as usual.
  // A plain form from a part (the BLOB list's Delete) has no token either: it takes the
  // page's own, the one htmx sends as a header.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form || !form.matches) return;
    if (form.matches("form[hx-post]")) { htmx.process(form); return; }
    if (form.method === "post" && !form.querySelector("input[name=csrf_token]")) {
      var token = pageToken();
      if (!token) return;
      var field = document.createElement("input");
      field.type = "hidden"; field.name = "csrf_token"; field.value = token;
      form.appendChild(field);
    }
  }, true);

  function pageToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"]; }
    catch (err) { return null; }
  }
  // The stream's state, for the page and the tests: data-stream="open" once connected.
  document.addEventListener("htmx:sseOpen", function () { document.body.dataset.stream = "open"; });
  document.addEventListener("htmx:sseError", function (e) {
    document.body.dataset.stream = "error";
    // the banner said "connected" over values no longer kept current; the stream's first
    // part, once it is back, is the banner as it is then
    var conn = document.getElementById("conn");
    if (conn) {
      conn.className = "conn lost";
      conn.textContent = "The web server cannot be reached: this page is not kept up to date; reconnecting by itself…";
    }
    checkSession(e.target);
  });

  // The stream element out of the page, its EventSource closed (what htmx's SSE extension
  // does as it cleans an element up; htmx.remove alone leaves the connection open).
  function endStream(stream) {
    htmx.trigger(stream, "htmx:beforeCleanupElement");
    stream.remove();
  }

  // A browser keeps at most six connections to one web server (HTTP/1.1) and each open
  // page's stream holds one: a seventh tab never loaded. A tab in the background gives its
  // stream up, and opens a new one as it is shown again (the stream then sends the whole page).
  var parked = null;
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      var stream = document.getElementById("stream");
      if (!stream || parked) return;
      parked = stream.cloneNode(true);
      endStream(stream);
      document.body.dataset.stream = "parked";
    } else if (parked) {
      var conn = document.getElementById("conn");
      if (conn) {
        conn.insertAdjacentElement("afterend", parked);
        htmx.process(parked);
      }
      parked = null;
    }
  });

  // The status line's age of the newest reading (a source over redis): the server refreshes
  // it each second while the stream is open; between refreshes, and when the stream stalls,
  // it is counted on here from the age the server rendered.
  function ageText(s) {
    s = Math.max(0, s);
    if (s < 10) return s.toFixed(1) + " s";
    if (s < 120) return s.toFixed(0) + " s";
    if (s < 7200) return (s / 60).toFixed(0) + " min";
    return (s / 3600).toFixed(1) + " h";
  }
  setInterval(function () {
    document.querySelectorAll("#conn .age[data-age]").forEach(function (el) {
      if (!el.dataset.at) el.dataset.at = String(Date.now());
      el.textContent = ageText(parseFloat(el.dataset.age) + (Date.now() - Number(el.dataset.at)) / 1000);
    });
  }, 1000);

  // The stream refused: a web server that is away (no answer here, the stream retries by
  // itself), or a session that has ended (logged out in another tab, expired, the user
  // deleted: 401 for ever). For the latter the banner said "connected" over values frozen
  // since; it now says so, and the stream is removed (its retries stop with it).
  function checkSession(stream) {
    var url = stream && stream.getAttribute && stream.getAttribute("sse-connect");
    if (!url) return;
    var base = url.slice(0, url.lastIndexOf("/stream"));
    fetch(base + "/api/session", {credentials: "same-origin"}).then(function (r) {
      if (r.status !== 401 || !stream.isConnected) return;
      endStream(stream);
      document.body.dataset.stream = "ended";
      var conn = document.getElementById("conn");
      if (!conn) return;
      conn.className = "conn lost";
      conn.textContent = "You are logged out: this page is no longer kept up to date. ";
      var link = document.createElement("a");
      link.href = base + "/login";
      link.textContent = "Log in again";
      conn.appendChild(link);
    }).catch(function () { /* the web server is away: the stream retries by itself */ });
  }
})();
