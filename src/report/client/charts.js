/*
 * charts.js: the one chart renderer of the project, run in the browser by the agent's dashboard (/ui) and
 * inlined into every HTML report (evaluate, validate, training). It draws a ChartSpec (src/report/charts.ts)
 * with uPlot, which must be loaded first (the global `uPlot`). A classic script, no imports, no eval and
 * no <style> of its own, so it runs under the dashboard's Content-Security-Policy and from a file:// report.
 *
 *   crpCharts.draw(element, spec)   draws one chart into element; returns the uPlot instance
 *   crpCharts.update(u, spec)       gives a drawn chart new points (same series), e.g. a live replay
 *   crpCharts.drawAll(root)         draws every <script type="application/json" class="chart-spec"> under root
 *                                   into the element before it (what a report does on load)
 *   crpCharts.instances             every chart drawn and not destroyed (tests count their points)
 *
 * Every series is drawn in uPlot's mode 2 (each series has its own x values): 'dots' as points only,
 * 'ring' as hollow points (larger: a dot under one stays visible), 'line' as a polyline through its
 * points in their order. A series' `labels` are written beside its points, each moved down past the ones
 * already written so that none overlaps another (u.crpLabels: what was written where, for tests). The
 * legend sits under the plot, never over it. The chart is as wide as spec.width (640 by default) or the
 * screen allows, whichever is less.
 *
 * Three parts, each in its own function scope, meet on window.crpCharts: the series (a spec's points made
 * into uPlot's data: crpCharts.series), the labels (placed beside their points: crpCharts.labels), and the
 * drawing (uPlot's options, the public draw / update / destroy / drawAll).
 */
// The series: a spec's points, cleaned, as uPlot's data.
(function (charts) {
  'use strict';

  /** points: the finite [x, y] pairs of a series, in order (a log axis drops values ≤ 0). */
  function clean(points, logX, logY) {
    return points.filter(function (p) {
      return isFinite(p[0]) && isFinite(p[1]) && (!logX || p[0] > 0) && (!logY || p[1] > 0);
    });
  }

  /** fmt: an axis value in at most 3 significant digits (exponent form when very large or small). */
  function fmt(v) {
    if (v === null || v === undefined) return '';
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
    return String(+v.toPrecision(3));
  }

  /** prepare: the spec's series with their clean points (a label rides along as p[2]), plus the y = x guide when asked. */
  function prepare(spec) {
    var logX = !!spec.logX, logY = !!spec.logY;
    var series = spec.series.map(function (s) {
      var pts = s.labels ? s.points.map(function (p, i) { return [p[0], p[1], s.labels[i]]; }) : s.points;
      return { name: s.name, color: s.color, style: s.style || 'line', dash: s.dash, size: s.size, labeled: !!s.labels, points: clean(pts, logX, logY) };
    });
    if (spec.diagonal) {
      var all = [].concat.apply([], series.map(function (s) { return s.points; }));
      if (all.length) {
        var lo = Math.min.apply(null, all.map(function (p) { return Math.min(p[0], p[1]); }));
        var hi = Math.max.apply(null, all.map(function (p) { return Math.max(p[0], p[1]); }));
        series.push({ name: 'y = x', color: '#999', style: 'line', dash: [4, 4], points: [[lo, lo], [hi, hi]], guide: true });
      }
    }
    return series;
  }

  /** dataOf: uPlot's mode-2 data: a null x, then [xs, ys] per series. */
  function dataOf(series) {
    return [null].concat(series.map(function (s) {
      return [s.points.map(function (p) { return p[0]; }), s.points.map(function (p) { return p[1]; })];
    }));
  }

  charts.format = fmt;
  charts.series = { prepare: prepare, dataOf: dataOf };
})(window.crpCharts = { instances: [] });

// The labels: a labelled point's text, beside it, where it covers nothing.
(function (charts) {
  'use strict';

  /** overlaps: do two label boxes {x, y, w, h} (canvas pixels) intersect? */
  function overlaps(a, b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  }

  /**
   * drawLabels writes each labelled point's text beside it (a labelled point of a line gets a marker): the first of fourteen places around the point
   * (right, left, above, below, then further out) that lies inside the plot and covers neither a label
   * already written nor a marker. A label with no such place is left out (u.crpLabelsLeftOut), never
   * drawn over the axes.
   */
  function drawLabels(u, series) {
    var dpr = window.devicePixelRatio || 1;
    var ctx = u.ctx;
    var box = u.bbox;
    var placed = [];
    var left = [];
    ctx.save();
    ctx.font = Math.round(11 * dpr) + 'px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.textAlign = 'left'; // uPlot leaves its axes' alignment set
    var lineH = Math.round(13 * dpr);
    // the markers of every dotted series are obstacles too
    var marks = [];
    series.forEach(function (s) {
      if (s.style !== 'dots' && s.style !== 'ring' && !s.labeled) return;
      var r = (s.style === 'ring' ? 9 : 6) * dpr;
      s.points.forEach(function (p) {
        if (s.style === 'line' && !p[2]) return; // an unlabelled point of a line has no marker
        var x = u.valToPos(p[0], 'x', true), y = u.valToPos(p[1], 'y', true);
        marks.push({ x: x - r, y: y - r, w: 2 * r, h: 2 * r });
      });
    });
    var inside = function (b) { return b.x >= box.left && b.y >= box.top && b.x + b.w <= box.left + box.width && b.y + b.h <= box.top + box.height; };
    series.forEach(function (s) {
      if (!s.labeled) return;
      var off = (s.style === 'ring' ? 11 : 7) * dpr; // clear of the marker
      s.points.forEach(function (p) {
        var text = p[2];
        if (!text) return;
        var x = u.valToPos(p[0], 'x', true);
        var y = u.valToPos(p[1], 'y', true);
        var w = ctx.measureText(text).width;
        var mid = y - lineH / 2;
        var tries = [[x + off, mid], [x - off - w, mid], [x - w / 2, y - off - lineH], [x - w / 2, y + off],
          [x + off, mid - lineH], [x + off, mid + lineH], [x - off - w, mid - lineH], [x - off - w, mid + lineH],
          [x + off, mid - 2 * lineH], [x + off, mid + 2 * lineH], [x - off - w, mid - 2 * lineH], [x - off - w, mid + 2 * lineH],
          [x - w / 2, y - off - 2 * lineH], [x - w / 2, y + off + lineH]];
        var b = null;
        for (var k = 0; k < tries.length && !b; k++) {
          var c = { x: tries[k][0], y: tries[k][1], w: w, h: lineH, text: text };
          if (inside(c) && !placed.some(function (q) { return overlaps(c, q); }) && !marks.some(function (q) { return overlaps(c, q); })) b = c;
        }
        if (s.style === 'line') {
          // the labelled point of a line gets a marker (uPlot draws none in mode 2)
          ctx.fillStyle = s.color;
          ctx.beginPath();
          ctx.arc(x, y, 3.5 * dpr, 0, 2 * Math.PI);
          ctx.fill();
        }
        if (!b) { left.push(text); return; }
        ctx.fillStyle = '#fff';
        ctx.globalAlpha = 0.8;
        ctx.fillRect(b.x - 1, b.y, w + 2, lineH);
        ctx.globalAlpha = 1;
        ctx.fillStyle = s.color;
        ctx.fillText(text, b.x, b.y);
        placed.push(b);
      });
    });
    ctx.restore();
    u.crpLabels = placed.map(function (b) { return { text: b.text, x: b.x / dpr, y: b.y / dpr, w: b.w / dpr, h: b.h / dpr }; });
    u.crpLabelsLeftOut = left;
  }

  charts.labels = { draw: drawLabels };
})(window.crpCharts);

// The drawing: uPlot's options and the public API.
(function (charts) {
  'use strict';
  var instances = charts.instances;
  var prepare = charts.series.prepare;
  var dataOf = charts.series.dataOf;
  var fmt = charts.format;

  /** options: uPlot's options for a spec and its prepared series (mode 2: each series has its own x values). */
  function options(spec, series) {
    var logX = !!spec.logX, logY = !!spec.logY;
    // never wider than the screen (less the page's margins), so a narrow screen does not scroll sideways
    var screen = (document.documentElement.clientWidth || 640) - 48;
    var width = Math.max(280, Math.min(spec.width || 640, screen));
    var yRange = spec.yRange;
    return {
      mode: 2,
      title: spec.title,
      width: width,
      height: spec.height || 320,
      legend: { live: false },
      cursor: { drag: { x: false, y: false, setScale: false }, points: { show: false } },
      scales: {
        x: { time: false, distr: logX ? 3 : 1, auto: true },
        y: yRange ? { distr: logY ? 3 : 1, auto: false, range: function () { return [yRange[0], yRange[1]]; } } : { distr: logY ? 3 : 1, auto: true },
      },
      axes: [
        { label: spec.xLabel, values: function (u, ticks) { return ticks.map(fmt); } },
        { label: spec.yLabel, size: 60, values: function (u, ticks) { return ticks.map(fmt); } },
      ],
      hooks: { draw: [function (u) { charts.labels.draw(u, series); }] },
      series: [{}].concat(series.map(function (s) {
        var ring = s.style === 'ring';
        var dots = s.style === 'dots' || ring;
        var many = s.points.length > 200;
        // Mode 2 draws no hover points, so a 'dots' series draws its markers as its path (the points
        // builder reads the size from series.points); a 'line' marks its points when they are few.
        return {
          label: s.name,
          stroke: s.color,
          fill: dots && !ring ? s.color : undefined,
          width: ring ? 2.5 : dots ? 1 : 2,
          dash: s.dash,
          facets: [{ scale: 'x', auto: true }, { scale: 'y', auto: !yRange }],
          paths: dots ? uPlot.paths.points() : undefined,
          points: { show: false, size: s.size || (ring ? 16 : dots ? (many ? 4 : 10) : 5), width: 1 },
        };
      })),
    };
  }

  /** draw draws one chart into el and returns its uPlot instance. */
  function draw(el, spec) {
    if (typeof uPlot !== 'function') throw new Error('charts.js: uPlot is not loaded');
    var series = prepare(spec);
    var u = new uPlot(options(spec, series), dataOf(series), el);
    u.crpSpec = spec;
    instances.push(u);
    return u;
  }

  /** update gives a drawn chart new points (the same series). */
  function update(u, spec) {
    u.setData(dataOf(prepare(spec)));
    u.crpSpec = spec;
  }

  /** destroy removes a chart and forgets it. */
  function destroy(u) {
    var i = instances.indexOf(u);
    if (i >= 0) instances.splice(i, 1);
    u.destroy();
  }

  /** drawAll draws every chart-spec script under root into the element before it. */
  function drawAll(root) {
    var nodes = (root || document).querySelectorAll('script.chart-spec');
    for (var i = 0; i < nodes.length; i++) {
      var target = nodes[i].previousElementSibling;
      if (target && !target.dataset.drawn) {
        draw(target, JSON.parse(nodes[i].textContent));
        target.dataset.drawn = '1';
      }
    }
  }

  charts.draw = draw;
  charts.drawAll = drawAll;
  charts.update = update;
  charts.destroy = destroy;
  if (document.querySelector('script.chart-spec')) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { drawAll(document); });
    else drawAll(document);
  }
})(window.crpCharts);
