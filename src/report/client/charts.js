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
 * 'line' as a polyline through its points in their order. The legend sits under the plot, never over it.
 */
(function () {
  'use strict';
  var instances = [];

  /** points: the finite [x, y] pairs of a series, in order (a log axis drops values ≤ 0). */
  function clean(points, logX, logY) {
    return points.filter(function (p) {
      return isFinite(p[0]) && isFinite(p[1]) && (!logX || p[0] > 0) && (!logY || p[1] > 0);
    });
  }

  function fmt(v) {
    if (v === null || v === undefined) return '';
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
    return String(+v.toPrecision(3));
  }

  /** prepare: the spec's series with their clean points, plus the y = x guide when asked. */
  function prepare(spec) {
    var logX = !!spec.logX, logY = !!spec.logY;
    var series = spec.series.map(function (s) {
      return { name: s.name, color: s.color, style: s.style || 'line', dash: s.dash, size: s.size, points: clean(s.points, logX, logY) };
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

  function dataOf(series) {
    return [null].concat(series.map(function (s) {
      return [s.points.map(function (p) { return p[0]; }), s.points.map(function (p) { return p[1]; })];
    }));
  }

  function draw(el, spec) {
    if (typeof uPlot !== 'function') throw new Error('charts.js: uPlot is not loaded');
    var logX = !!spec.logX, logY = !!spec.logY;
    var series = prepare(spec);
    var data = dataOf(series);
    var width = spec.width || Math.max(320, Math.min(640, (el.clientWidth || 560)));
    var opts = {
      mode: 2,
      title: spec.title,
      width: width,
      height: spec.height || 320,
      legend: { live: false },
      cursor: { drag: { x: false, y: false, setScale: false }, points: { show: false } },
      scales: {
        x: { time: false, distr: logX ? 3 : 1, auto: true },
        y: { distr: logY ? 3 : 1, auto: true },
      },
      axes: [
        { label: spec.xLabel, values: function (u, ticks) { return ticks.map(fmt); } },
        { label: spec.yLabel, size: 60, values: function (u, ticks) { return ticks.map(fmt); } },
      ],
      series: [{}].concat(series.map(function (s) {
        var dots = s.style === 'dots';
        var many = s.points.length > 200;
        // Mode 2 draws no hover points, so a 'dots' series draws its markers as its path (the points
        // builder reads the size from series.points); a 'line' marks its points when they are few.
        return {
          label: s.name,
          stroke: s.color,
          fill: dots ? s.color : undefined,
          width: dots ? 1 : 2,
          dash: s.dash,
          facets: [{ scale: 'x', auto: true }, { scale: 'y', auto: true }],
          paths: dots ? uPlot.paths.points() : undefined,
          points: { show: false, size: s.size || (dots ? (many ? 4 : 10) : 5), width: 1 },
        };
      })),
    };
    var u = new uPlot(opts, data, el);
    u.crpSpec = spec;
    instances.push(u);
    return u;
  }

  function update(u, spec) {
    u.setData(dataOf(prepare(spec)));
    u.crpSpec = spec;
  }

  function destroy(u) {
    var i = instances.indexOf(u);
    if (i >= 0) instances.splice(i, 1);
    u.destroy();
  }

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

  window.crpCharts = { draw: draw, drawAll: drawAll, update: update, destroy: destroy, instances: instances, format: fmt };
  if (document.querySelector('script.chart-spec')) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { drawAll(document); });
    else drawAll(document);
  }
})();
