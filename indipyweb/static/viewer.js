// indipyweb's image viewer: the server draws the pixels (a region of the frame at the size
// shown, from a downsampled level or the full frame), this script asks for the region in view,
// pans and zooms, reads the value under the cursor, and draws the histogram.
(function () {
  "use strict";

  function Viewer(root) {
    this.root = root;
    this.base = root.dataset.base || "";
    this.stage = root.querySelector(".v-stage");
    this.img = root.querySelector(".v-img");
    this.stretch = root.querySelector(".v-stretch");
    this.limits = root.querySelector(".v-limits");
    this.percent = root.querySelector(".v-percent");
    this.zoomSel = root.querySelector(".v-zoom");
    this.where = root.querySelector(".v-where");
    this.status = root.querySelector(".v-status");
    this.canvas = root.querySelector(".v-histogram");
    this.info = null;
    this.seq = 0;
    this.timer = null;
    this.pixelBusy = false;
    this.pixelNext = null;
    this.percentile = this.percent.value;  // the last good one: an emptied field keeps it
    this.summary = "";  // the frame's size and kind, what the status says once a view is drawn
    this.bind();
  }

  Viewer.prototype.url = function (what, params) {
    var q = new URLSearchParams(params || {});
    return this.base + "/image/" + encodeURIComponent(this.name) + "/" + what + (q.toString() ? "?" + q : "");
  };

  Viewer.prototype.open = function (name) {
    var self = this;
    this.name = name;
    this.root.dataset.image = name;
    this.root.dataset.ready = "loading";
    this.info = null;
    this.img.removeAttribute("src");
    this.status.textContent = "Reading " + name + " ...";
    this.root.querySelector(".v-download").href = this.base + "/blobs/file/" + encodeURIComponent(name);
    fetch(this.url("info"), {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(r.status + " " + t); });
      return r.json();
    }).then(function (info) {
      if (self.name !== name) return;
      self.info = info;
      self.summary = info.width + " x " + info.height + " " + info.dtype +
        (info.colour ? (info.colour === "RGB" ? ", colour (RGB)" : ", colour (Bayer " + info.colour + ")") : ", grey");
      self.status.textContent = self.summary;
      self.showHeader(info.header);
      self.zoomSel.value = "fit";
      self.fit();
      self.histogram();
    }).catch(function (e) { self.status.textContent = "Cannot show " + name + ": " + e.message; self.root.dataset.ready = "error"; });
  };

  Viewer.prototype.params = function () {
    // a percentile out of the field's range (or none) would be refused: the last good one
    if (this.percent.value !== "" && this.percent.checkValidity()) this.percentile = this.percent.value;
    return {stretch: this.stretch.value, limits: this.limits.value, percent: this.percentile};
  };

  Viewer.prototype.fit = function () {
    var w = this.stage.clientWidth || 800, h = this.stage.clientHeight || 600;
    this.zoom = Math.min(w / this.info.width, h / this.info.height);
    this.cx = this.info.width / 2;  // the frame's point at the stage's centre
    this.cy = this.info.height / 2;
    this.update();
  };

  Viewer.prototype.setZoom = function (zoom, sx, sy) {
    // keep the frame's point under (sx, sy) on the stage where it is
    var w = this.stage.clientWidth, h = this.stage.clientHeight;
    if (sx === undefined) { sx = w / 2; sy = h / 2; }
    var fx = this.cx + (sx - w / 2) / this.zoom, fy = this.cy + (sy - h / 2) / this.zoom;
    this.zoom = Math.max(1 / 64, Math.min(zoom, 32));
    this.cx = fx - (sx - w / 2) / this.zoom;
    this.cy = fy - (sy - h / 2) / this.zoom;
    this.update();
  };

  Viewer.prototype.region = function () {
    var w = this.stage.clientWidth, h = this.stage.clientHeight;
    var x0 = Math.max(0, this.cx - w / 2 / this.zoom), y0 = Math.max(0, this.cy - h / 2 / this.zoom);
    var x1 = Math.min(this.info.width, this.cx + w / 2 / this.zoom);
    var y1 = Math.min(this.info.height, this.cy + h / 2 / this.zoom);
    x0 = Math.floor(x0); y0 = Math.floor(y0); x1 = Math.ceil(x1); y1 = Math.ceil(y1);
    return {x0: x0, y0: y0, x1: Math.max(x1, x0 + 1), y1: Math.max(y1, y0 + 1)};
  };

  Viewer.prototype.place = function (img, r) {
    // where region r of the frame falls on the stage at the present zoom and centre
    var w = this.stage.clientWidth, h = this.stage.clientHeight;
    img.style.left = (w / 2 + (r.x0 - this.cx) * this.zoom) + "px";
    img.style.top = (h / 2 + (r.y0 - this.cy) * this.zoom) + "px";
    img.style.width = ((r.x1 - r.x0) * this.zoom) + "px";
    img.style.height = ((r.y1 - r.y0) * this.zoom) + "px";
  };

  Viewer.prototype.update = function () {
    var self = this;
    if (!this.info) return;
    if (this.shown) this.place(this.img, this.shown);  // the old pixels follow at once
    this.root.dataset.ready = "loading";
    this.seq++;  // a view still loading was asked with the old settings: it must not end "yes"
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.fetchView(); }, 60);
  };

  Viewer.prototype.fetchView = function () {
    var self = this, r = this.region(), ratio = window.devicePixelRatio || 1;
    var w = Math.max(1, Math.round((r.x1 - r.x0) * this.zoom * ratio));
    var h = Math.max(1, Math.round((r.y1 - r.y0) * this.zoom * ratio));
    var params = Object.assign({x0: r.x0, y0: r.y0, x1: r.x1, y1: r.y1, w: w, h: h}, this.params());
    var seq = ++this.seq, next = new Image();
    this.root.dataset.ready = "loading";
    next.onload = function () {
      if (seq !== self.seq) return;
      self.img.onload = function () {  // moved only once its new pixels are there to show
        if (seq !== self.seq) return;
        self.shown = r;
        self.place(self.img, r);
        self.status.textContent = self.summary;  // an earlier view's failure is over
        self.root.dataset.ready = "yes";
        self.root.dataset.view = JSON.stringify({region: r, w: w, h: h, zoom: self.zoom});
      };
      self.img.src = next.src;
    };
    next.onerror = function () { if (seq === self.seq) { self.status.textContent = "The view could not be drawn."; self.root.dataset.ready = "error"; } };
    next.src = this.url("render", params);
  };

  Viewer.prototype.histogram = function () {
    var self = this, hist = this.info.histogram, ctx = this.canvas.getContext("2d");
    var W = this.canvas.width, H = this.canvas.height, counts = hist.counts;
    var top = Math.log10(1 + Math.max.apply(null, counts));
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#f0f2f5"; ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = "#39465a";
    counts.forEach(function (c, i) {
      var bh = top > 0 ? Math.log10(1 + c) / top * (H - 4) : 0;
      ctx.fillRect(i * W / counts.length, H - bh, Math.max(1, W / counts.length), bh);
    });
    fetch(this.url("limits", this.params()), {credentials: "same-origin"}).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (data) {
      var colours = data.limits.length === 3 ? ["#d23c3c", "#2e9d4f", "#2b6cd9"] : ["#e98a00"];
      data.limits.forEach(function (lim, c) {
        [lim[0], lim[1]].forEach(function (v) {
          var x = (v - hist.low) / ((hist.high - hist.low) || 1) * W;
          ctx.fillStyle = colours[c]; ctx.fillRect(Math.max(0, Math.min(W - 2, x)), 0, 2, H);
        });
      });
      self.root.querySelector(".v-histo-caption").textContent = "Histogram " + fmt(hist.low) + " .. " + fmt(hist.high) +
        "; limits " + data.limits.map(function (l) { return fmt(l[0]) + " .. " + fmt(l[1]); }).join(", ");
      self.root.dataset.histogram = "drawn";
    }).catch(function () {
      self.root.querySelector(".v-histo-caption").textContent = "Histogram (its limits could not be read)";
    });
  };

  function fmt(v) { return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-2) ? v.toExponential(3) : String(Math.round(v * 1000) / 1000); }

  Viewer.prototype.showHeader = function (cards) {
    var table = this.root.querySelector(".v-cards");
    table.textContent = "";
    cards.forEach(function (card) {
      var tr = document.createElement("tr");
      card.forEach(function (text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); });
      table.appendChild(tr);
    });
    this.root.querySelector(".v-header summary").textContent = (this.name.match(/\.(fits?|fts|fz)$/i) ? "FITS header" : "Image details") + " (" + cards.length + ")";
  };

  Viewer.prototype.pixelAt = function (sx, sy) {
    var w = this.stage.clientWidth, h = this.stage.clientHeight;
    var x = Math.floor(this.cx + (sx - w / 2) / this.zoom), y = Math.floor(this.cy + (sy - h / 2) / this.zoom);
    if (!this.info || x < 0 || y < 0 || x >= this.info.width || y >= this.info.height) { this.where.textContent = "\u00a0"; return; }
    this.pixelNext = {x: x, y: y};
    this.askPixel();
  };

  Viewer.prototype.askPixel = function () {
    var self = this;
    if (this.pixelBusy || !this.pixelNext) return;  // one question at a time; the latest wins
    var p = this.pixelNext;
    this.pixelNext = null;
    this.pixelBusy = true;
    fetch(this.url("pixel", p), {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
      if (d.value) self.where.textContent = "x " + d.x + ", y " + d.y + ": " + d.value.map(fmt).join(" / ");
    }).finally(function () { self.pixelBusy = false; self.askPixel(); });
  };

  Viewer.prototype.bind = function () {
    var self = this, drag = null;
    [this.stretch, this.limits, this.percent].forEach(function (el) {
      el.addEventListener("change", function () {
        self.root.querySelector(".v-percent-box").hidden = self.limits.value !== "percentile";
        if (self.info) { self.update(); self.histogram(); }
      });
    });
    this.zoomSel.addEventListener("change", function () {
      if (!self.info) return;
      if (self.zoomSel.value === "fit") self.fit(); else self.setZoom(parseFloat(self.zoomSel.value));
    });
    this.stage.addEventListener("wheel", function (e) {
      if (!self.info) return;
      e.preventDefault();
      var rect = self.stage.getBoundingClientRect();
      self.setZoom(self.zoom * (e.deltaY < 0 ? 1.25 : 0.8), e.clientX - rect.left, e.clientY - rect.top);
      self.zoomSel.value = "";
    }, {passive: false});
    // one finger or the mouse drags; two fingers pinch (zoom about their midpoint)
    var touches = new Map(), pinch = null;
    function spread() {
      var p = Array.from(touches.values());
      return {d: Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y) || 1, x: (p[0].x + p[1].x) / 2, y: (p[0].y + p[1].y) / 2};
    }
    this.stage.addEventListener("pointerdown", function (e) {
      touches.set(e.pointerId, {x: e.clientX, y: e.clientY});
      self.stage.setPointerCapture(e.pointerId);
      if (touches.size === 2 && self.info) { drag = null; pinch = Object.assign(spread(), {zoom: self.zoom}); }
      else if (touches.size === 1) drag = {x: e.clientX, y: e.clientY, cx: self.cx, cy: self.cy};
    });
    this.stage.addEventListener("pointermove", function (e) {
      var rect = self.stage.getBoundingClientRect();
      if (touches.has(e.pointerId)) touches.set(e.pointerId, {x: e.clientX, y: e.clientY});
      if (pinch && touches.size === 2) {
        var now = spread();
        self.setZoom(pinch.zoom * now.d / pinch.d, now.x - rect.left, now.y - rect.top);
        self.zoomSel.value = "";
      } else if (drag && self.info) {
        self.cx = drag.cx - (e.clientX - drag.x) / self.zoom;
        self.cy = drag.cy - (e.clientY - drag.y) / self.zoom;
        self.update();
      } else self.pixelAt(e.clientX - rect.left, e.clientY - rect.top);
    });
    function release(e) {
      touches.delete(e.pointerId);
      if (touches.size < 2) pinch = null;
      drag = null;
    }
    this.stage.addEventListener("pointerup", release);
    this.stage.addEventListener("pointercancel", release);
    this.stage.addEventListener("keydown", function (e) {
      if (!self.info) return;
      var step = 60 / self.zoom;
      if (e.key === "+" || e.key === "=") self.setZoom(self.zoom * 1.25);
      else if (e.key === "-") self.setZoom(self.zoom * 0.8);
      else if (e.key === "ArrowLeft") { self.cx -= step; self.update(); }
      else if (e.key === "ArrowRight") { self.cx += step; self.update(); }
      else if (e.key === "ArrowUp") { self.cy -= step; self.update(); }
      else if (e.key === "ArrowDown") { self.cy += step; self.update(); }
      else return;
      e.preventDefault();
    });
  };

  window.indipywebViewer = Viewer;

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.querySelector("main > .viewer[data-image]");
    if (page && page.dataset.image) new Viewer(page).open(page.dataset.image);
  });
  // a thumbnail on a device page opens the viewer in its dialog, the page (and its live
  // updates) staying underneath; without the dialog the link opens the viewer's own page
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a.open-viewer");
    var dialog = document.querySelector("dialog.viewer-dialog");
    if (!link || !dialog || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    var root = dialog.querySelector(".viewer");
    if (!root.viewer) {
      root.viewer = new Viewer(root);
      var close = root.querySelector(".v-close");
      close.hidden = false;
      close.addEventListener("click", function () { dialog.close(); });
    }
    dialog.showModal();
    root.viewer.open(link.dataset.image);
  });
})();
