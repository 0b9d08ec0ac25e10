// The agent's status page: polls /api/v1/state and renders it. Read-only; no framework.
(function () {
  'use strict';
  var STATE_URL = '/api/v1/state';
  var pollMs = 5000;
  var failures = 0;
  var charts = {};
  var lastSample = 0;
  var lastInterval = 5;

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'class') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  function replace(parent, nodes) {
    while (parent.firstChild) parent.removeChild(parent.firstChild);
    nodes.forEach(function (n) { parent.appendChild(n); });
  }

  function bytes(n) {
    if (n === undefined || n === null) return '';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0, v = Math.abs(n);
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (n < 0 ? '-' : '') + v.toFixed(i === 0 ? 0 : 1) + ' ' + units[i];
  }

  function duration(s) {
    if (!isFinite(s)) return '';
    if (s < 120) return Math.round(s) + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    if (s < 172800) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' d';
  }

  function renderConditions(state) {
    var items = state.conditions.map(function (c) {
      return el('li', { class: c.severity }, [
        el('div', null, [el('span', { class: 'sev' }, [c.severity]), el('span', { class: 'what' }, [c.subject + ': ' + c.value])]),
        el('div', { class: 'detail' }, [c.kind + ', threshold ' + c.threshold + '. ' + c.message]),
      ]);
    });
    if (items.length === 0) items = [el('li', { class: 'ok' }, ['Nothing is saturated or near a limit.'])];
    replace($('conditions'), items);
  }

  function renderLeaks(state) {
    var rows = state.leaks.map(function (l) {
      var growth = l.growthPerSecond === undefined ? '' : l.unit === 'bytes' ? bytes(l.growthPerSecond * 3600) + '/h' : (l.growthPerSecond * 3600).toFixed(1) + '/h';
      var conf = l.confidence === undefined ? '' : Math.round(l.confidence * 100) + '%';
      var masked = l.shape && l.shape !== 'growing' ? ' (' + l.shape.replace(/_/g, ' ') + ', per life)' : '';
      return el('tr', null, [el('td', null, [l.subjectKind + ' ' + l.subject]), el('td', null, [l.resource + masked]), el('td', { class: 'num' }, [growth]), el('td', { class: 'num' }, [conf])]);
    });
    var j = state.judging;
    var short = j && j.historySeconds < j.neededSeconds;
    if (rows.length === 0) rows = [el('tr', null, [el('td', { colspan: '4', class: 'empty' }, [short ? 'None yet: too little history to judge.' : 'No leak suspected.'])])];
    replace($('leaks').tBodies[0], rows);
    $('judging').textContent = short
      ? 'Judging: ' + Math.ceil((j.neededSeconds - j.historySeconds) / 60) + ' more minutes of history needed (it has ' + duration(j.historySeconds) + ' of the ' + duration(j.neededSeconds) + ' the trend test needs).'
      : '';
    var soonest = state.exhaustion.slice(0, 3).map(function (e) { return e.resource + ' in ' + duration(e.seconds); });
    $('exhaustion').textContent = soonest.length ? 'Projected exhaustion: ' + soonest.join(', ') + '.' : '';
  }

  function alertCard(a) {
    return el('li', { class: a.severity }, [
      el('div', null, [el('span', { class: 'sev' }, [a.severity]), el('span', { class: 'what' }, [a.alertname])]),
      el('div', { class: 'detail' }, [a.summary + (a.state === 'pending' ? ' (pending since ' : ' since ') + new Date(a.activeAt).toLocaleTimeString() + (a.state === 'pending' ? ')' : '')]),
    ]);
  }

  function renderAlerts(state) {
    var firing = state.alerts.filter(function (a) { return a.state === 'firing'; }).map(alertCard);
    var pending = state.alerts.filter(function (a) { return a.state === 'pending'; }).map(alertCard);
    if (firing.length === 0) firing = [el('li', { class: 'ok' }, ['No alert is firing.'])];
    if (pending.length === 0) pending = [el('li', { class: 'ok' }, ['None pending.'])];
    replace($('alerts'), firing);
    replace($('pending'), pending);
  }

  function perSecond(n) { return n === undefined || n === null ? 'n/a' : bytes(n) + '/s'; }

  function processRows(list) {
    var rows = (list || []).map(function (p) {
      return el('tr', null, [
        // cmdline and user are in the state only when the agent is set to expose them.
        el('td', { class: 'num' }, [p.pid]),
        el('td', p.cmdline === undefined ? null : { title: p.cmdline + ' (' + p.user + ')' }, [p.name + (p.unit ? ' (' + p.unit + ')' : '')]),
        el('td', null, [p.group]),
        el('td', { class: 'num' }, [Math.round(p.cpu * 100) + '%']),
        el('td', { class: 'num' }, [bytes(p.privateBytes)]),
        el('td', { class: 'num' }, [(p.growthPerSecond > 0 ? '+' : '') + bytes(p.growthPerSecond) + '/s']),
        el('td', { class: 'num' }, [String(p.handles)]),
        el('td', { class: 'num' }, [String(p.threads)]),
        // Unreadable I/O (another user's process, an unprivileged agent; Windows) says so rather than staying blank.
        el('td', { class: 'num' }, [perSecond(p.ioReadPerSecond)]),
        el('td', { class: 'num' }, [perSecond(p.ioWritePerSecond)]),
      ]);
    });
    if (rows.length === 0) rows = [el('tr', null, [el('td', { colspan: '10', class: 'empty' }, ['No process figures (the processes collector is off or not sampled yet).'])])];
    return rows;
  }

  function renderProcesses(state) {
    replace($('cpu-processes').tBodies[0], processRows(state.topByCpu));
    replace($('processes').tBodies[0], processRows(state.topProcesses));
  }

  function renderPolicy(state) {
    $('policy').textContent = state.activePolicy ? 'Active policy: ' + state.activePolicy : 'No managing policy is active.';
    replace($('actions'), state.policyActions.slice(0, 10).map(function (a) {
      return el('li', null, [new Date(a.time).toLocaleTimeString() + ' ' + policyActionText(a)]);
    }));
  }

  function renderCaptures(state) {
    var items = (state.captures || []).slice(0, 10).map(function (c) {
      var why = c.trigger === 'before_stop' ? 'before a policy stop' : c.trigger === 'leak' ? 'at a leak flag for ' + c.criteria : 'on demand';
      var what = c.outcome === 'captured' ? 'dumped to ' + c.file + ' (' + bytes(c.bytes || 0) + ')' : c.outcome + (c.reason ? ': ' + c.reason : '');
      return el('li', null, [new Date(c.time).toLocaleTimeString() + ' ' + c.name + ' (pid ' + c.pid + ') ' + why + ': ' + what]);
    });
    if (items.length === 0) items = [el('li', { class: 'empty' }, ['No process dumps taken.'])];
    replace($('captures'), items);
  }

  function policyActionText(a) {
    if (a.action === 'activate') return 'the calendar made ' + a.policy + ' the managing policy';
    var who = a.pid ? a.name + ' (pid ' + a.pid + ')' : a.name;
    var why = a.measure === 'cpu' ? 'its CPU share' : a.measure.replace('_', ' ');
    return a.action.replace('_', ' ') + ' ' + who + ' for ' + why + ' under ' + a.policy + '/' + a.criteria + ': ' + a.outcome;
  }

  function renderHealth(state) {
    var age = (Date.now() - state.sampleTimestamp) / 1000;
    var failed = state.failedCollectors.map(function (c) { return c.name + (c.error ? ' (' + c.error + ')' : ''); });
    $('health').textContent = 'Last sample ' + duration(age) + ' ago' + (failed.length ? '; failing collectors: ' + failed.join(', ') : '; all collectors healthy') + '.';
  }

  function chartSize(container) {
    // One column on a phone, several on a wide screen: the grid decides, the chart fills its cell.
    var columns = window.getComputedStyle(container).gridTemplateColumns.split(' ').length || 1;
    var width = (container.clientWidth - (columns - 1) * 16) / columns;
    return { width: Math.max(200, Math.floor(width)), height: 150 };
  }

  function renderCharts(state) {
    var host = $('charts');
    var seen = {};
    state.charts.forEach(function (c) {
      seen[c.id] = true;
      var data = [c.times].concat(c.series.map(function (s) { return s.values; }));
      var entry = charts[c.id];
      var labels = c.series.map(function (s) { return s.label; }).join('\u0000');
      if (entry && entry.labels === labels) { entry.plot.setData(data); return; }
      if (entry) { entry.plot.destroy(); host.removeChild(entry.box); }
      var box = el('figure', { class: 'chart', role: 'img', 'aria-label': c.title + ', last hour' }, [el('h3', null, [c.title])]);
      host.appendChild(box);
      var fmt = c.unit === 'bytes' ? function (u, v) { return v === null ? '' : bytes(v); } : undefined;
      var palette = ['#0969da', '#bf3989', '#1a7f37', '#9a6700', '#8250df'];
      var opts = {
        width: chartSize(host).width, height: chartSize(host).height,
        series: [{}].concat(c.series.map(function (s, i) { return { label: s.label, stroke: palette[i % palette.length], width: 1.5, value: fmt }; })),
        axes: [{}, { size: 84, values: c.unit === 'bytes' ? function (u, vals) { return vals.map(function (v) { return bytes(v); }); } : undefined }],
        legend: { show: true },
      };
      charts[c.id] = { plot: new uPlot(opts, data, box), box: box, labels: labels };
    });
    Object.keys(charts).forEach(function (id) {
      if (!seen[id]) { charts[id].plot.destroy(); host.removeChild(charts[id].box); delete charts[id]; }
    });
    if (state.charts.length === 0 && !host.firstChild) host.appendChild(el('p', { class: 'empty' }, ['No history yet.']));
    else if (state.charts.length > 0) Array.prototype.slice.call(host.querySelectorAll('p.empty')).forEach(function (p) { host.removeChild(p); });
  }

  function render(state) {
    $('host').textContent = state.host.hostname ? '· ' + state.host.hostname + ' (' + state.host.os + ' ' + state.host.kernel + ', ' + state.host.cpus + ' CPUs)' : '';
    renderConditions(state);
    renderLeaks(state);
    renderAlerts(state);
    renderProcesses(state);
    renderPolicy(state);
    renderCaptures(state);
    renderHealth(state);
    renderCharts(state);
  }

  function poll() {
    fetch(STATE_URL, { cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (state) {
        failures = 0;
        if (state.sampleIntervalSeconds) pollMs = Math.max(1000, Math.min(15000, state.sampleIntervalSeconds * 1000));
        lastSample = state.sampleTimestamp;
        lastInterval = state.sampleIntervalSeconds || lastInterval;
        var status = $('status');
        var age = (Date.now() - state.sampleTimestamp) / 1000;
        // An agent that answers but no longer samples is as stale as one that does not answer.
        var stale = age > 3 * lastInterval + 5;
        document.body.className = stale ? 'stale' : '';
        status.className = stale ? 'stale' : '';
        status.textContent = stale ? 'stale · the agent answers but its latest sample is ' + duration(age) + ' old' : 'live · updated ' + new Date().toLocaleTimeString();
        render(state);
        setTimeout(poll, pollMs);
      })
      .catch(function () {
        failures++;
        var status = $('status');
        status.className = 'down';
        // What is shown is what the agent said last: grey it, and say how old it is.
        document.body.className = lastSample ? 'stale' : '';
        status.textContent = 'reconnecting to the agent… (attempt ' + failures + ')' + (lastSample ? ' · showing data ' + duration((Date.now() - lastSample) / 1000) + ' old' : '');
        setTimeout(poll, Math.min(10000, 1000 * failures));
      });
  }

  poll();
})();
