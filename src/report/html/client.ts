// The browser side of the HTML report and of /ui, one script for both: it draws the charts with
// chart.js from the Report (embedded in the file; fetched from /ui/api/report.json live) and runs
// the namespace filter. Plain ES2020 in a string, so it needs no bundler; it formats no figure
// (the tables are rendered by the server with src/report/format/numbers.ts).

export const CLIENT_JS = String.raw`(function () {
  'use strict';
  var GiB = 1073741824;
  var COLOR = {
    requested: '#c0392b',
    used: '#2471a3',
    recommended: '#1e8449',
    realised: '#7d3c98',
    available: '#d68910'
  };
  var config = JSON.parse(document.getElementById('tailor-config').textContent);
  var status = document.getElementById('tailor-charts-status');

  function state(s, message) {
    document.body.setAttribute('data-charts', s);
    if (status) status.textContent = message || '';
  }

  function load() {
    if (config.dataUrl) {
      return fetch(config.dataUrl, { headers: { accept: 'application/json' } }).then(function (r) {
        if (!r.ok) throw new Error(config.dataUrl + ' answered ' + r.status);
        return r.json();
      });
    }
    return Promise.resolve(JSON.parse(document.getElementById('tailor-report').textContent));
  }

  function options(unit) {
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      plugins: { legend: { position: 'bottom' } },
      elements: { point: { radius: 0 } },
      scales: { y: { beginAtZero: true, title: { display: true, text: unit } } }
    };
  }

  var PICK = {
    cpu: { unit: 'cores', get: function (a) { return a.cpuCores; } },
    memory: { unit: 'GiB', get: function (a) { return a.memoryBytes / GiB; } },
    gpu: { unit: 'GPUs', get: function (a) { return a.gpus; } }
  };

  function seriesChart(canvas, w, resource) {
    var pick = PICK[resource];
    var labels = w.series.map(function (p) { return p.t.slice(5, 16).replace('T', ' '); });
    var sets = ['requested', 'used', 'recommended'].map(function (k) {
      return {
        label: k,
        data: w.series.map(function (p) { return pick.get(p[k]); }),
        borderColor: COLOR[k],
        backgroundColor: COLOR[k],
        borderWidth: 2,
        stepped: k !== 'used'
      };
    });
    new Chart(canvas, { type: 'line', data: { labels: labels, datasets: sets }, options: options(pick.unit) });
  }

  function namespaceChart(canvas, report, sets, unit) {
    var labels = report.namespaces.map(function (n) { return n.namespace; });
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: labels,
        datasets: sets.map(function (s) {
          return {
            label: s.label,
            data: report.namespaces.map(function (n) { return s.get(n.figures); }),
            backgroundColor: COLOR[s.color]
          };
        })
      },
      options: options(unit)
    });
  }

  function key(ns, kind, name) { return JSON.stringify([ns, kind, name]); }

  function draw(report) {
    var savings = document.getElementById('chart-savings');
    if (savings) {
      namespaceChart(savings, report, [
        { label: 'realised (range)', color: 'realised', get: function (f) { return f.realised.cost; } },
        { label: 'available per month', color: 'available', get: function (f) { return f.available.cost; } }
      ], report.currency);
    }
    var carbon = document.getElementById('chart-co2e');
    if (carbon) {
      namespaceChart(carbon, report, [
        { label: 'requested per month', color: 'requested', get: function (f) { return f.requested.co2eKg; } },
        { label: 'recommended per month', color: 'recommended', get: function (f) { return f.recommended.co2eKg; } },
        { label: 'realised saving (range)', color: 'realised', get: function (f) { return f.realised.co2eKg; } }
      ], 'kg CO2e');
    }
    var byKey = {};
    report.namespaces.forEach(function (n) {
      n.workloads.forEach(function (w) { byKey[key(w.namespace, w.kind, w.name)] = w; });
    });
    document.querySelectorAll('canvas[data-series]').forEach(function (c) {
      var w = byKey[key(c.getAttribute('data-ns'), c.getAttribute('data-kind'), c.getAttribute('data-name'))];
      if (w) seriesChart(c, w, c.getAttribute('data-series'));
    });
  }

  var filter = document.getElementById('ns-filter');
  if (filter) {
    filter.addEventListener('change', function () {
      var ns = filter.value;
      if (config.mode === 'live') {
        var q = new URLSearchParams();
        if (ns) q.set('namespace', ns);
        if (config.since) q.set('since', config.since);
        var s = q.toString();
        location.assign(config.base + (s ? '?' + s : ''));
        return;
      }
      document.querySelectorAll('[data-ns-scope]').forEach(function (el) {
        el.hidden = ns !== '' && el.getAttribute('data-ns') !== ns;
      });
    });
  }

  if (typeof Chart === 'undefined') {
    state('failed', 'charts unavailable: chart.js did not load');
    return;
  }
  state('loading', 'drawing charts...');
  load().then(
    function (report) { draw(report); state('drawn', ''); },
    function (err) { state('failed', 'charts unavailable: ' + (err && err.message ? err.message : String(err))); }
  );
})();
`;
