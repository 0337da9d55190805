// Sluice web console. Plain ES module, no dependencies: it must work offline and stay light.
// It polls the status endpoints every 2 s and keeps the chart history in the page (the server
// keeps none), so a reload starts the charts afresh.

const POLL_MS = 2000;
const HISTORY_MS = 5 * 60 * 1000;
const COLORS = ['#2b6cb0', '#dd6b20', '#38a169', '#805ad5', '#d53f8c', '#319795', '#b7791f', '#c53030'];
const SVG_NS = 'http://www.w3.org/2000/svg';

/** Builds an element; children that are strings become text (never HTML: data is untrusted). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const $ = (id) => document.getElementById(id);

function fmtMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function fmtNum(n) {
  if (n === null || n === undefined || n === '') return '–';
  const x = Number(n);
  return Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: 1 }) : String(n);
}

function ago(iso) {
  if (!iso) return '–';
  const ms = Date.now() - Date.parse(iso);
  return Number.isFinite(ms) ? `${fmtMs(Math.max(0, ms))} ago` : String(iso);
}

function badge(state) {
  return h('span', { class: 'badge', 'data-state': state }, state);
}

/** Fetches JSON; API errors become Errors carrying the API's code and message. */
async function api(path, init) {
  const res = await fetch(path, init);
  let body = null;
  try {
    body = await res.json();
  } catch {
    if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status} ${res.statusText}`), { code: `HTTP_${res.status}` });
    throw new Error(`${path}: the answer is not JSON`);
  }
  if (!res.ok) {
    const e = body && body.error;
    throw Object.assign(new Error(e?.message ?? `HTTP ${res.status}`), { code: e?.code ?? `HTTP_${res.status}` });
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// Status: sources, tables, models
// ---------------------------------------------------------------------------------------------

/** Per source: the last log end offset seen and when, for events/s between polls. */
const lastOffsets = new Map();
/** Chart history: [{ t, rate: {source: n}, lag: {source: seconds} }]. */
const history = [];

function setRows(tbody, rows, cols) {
  tbody.replaceChildren(...(rows.length ? rows : [h('tr', { class: 'empty' }, h('td', { colspan: cols }, 'none'))]));
}

function renderSources(sources, rates) {
  setRows($('sources').tBodies[0], sources.map((src) => {
    const snap = src.snapshot;
    const problem = src.error?.message ?? src.applyError?.message ?? (typeof src.applyError === 'string' ? src.applyError : null);
    return h('tr', { 'data-source': src.name, title: problem ?? undefined },
      h('td', {}, h('b', {}, src.name)),
      h('td', {}, src.kind ?? ''),
      h('td', {}, badge(src.state), problem ? h('div', { class: 'error' }, problem) : null),
      h('td', {}, src.position ?? '–'),
      h('td', {}, src.acknowledged ?? '–'),
      h('td', { class: 'num' }, rates.has(src.name) ? fmtNum(rates.get(src.name)) : '–'),
      h('td', {}, src.log ? `${fmtNum(src.log.appliedOffset)} / ${fmtNum(src.log.endOffset)}` : '–'),
      h('td', {}, fmtMs(src.lagMs)),
      h('td', {}, snap ? `${snap.tablesDone}/${snap.tablesTotal} tables, ${fmtNum(snap.rows)} rows` : '–'),
    );
  }), 9);
}

function renderTables(tables) {
  setRows($('tables').tBodies[0], tables.map((t) =>
    h('tr', { 'data-table': t.name },
      h('td', {}, h('b', {}, t.name)),
      h('td', {}, t.sourceTable ?? ''),
      h('td', { class: 'num rows' }, fmtNum(t.rows)),
      h('td', { title: t.lastCommitAt ?? '' }, ago(t.lastCommitAt)),
      h('td', {}, fmtMs(t.lagMs)),
      h('td', {}, t.position ?? '–'),
    )), 6);
}

/** Models in layers by depth: a model sits one layer right of the deepest model it reads. */
function renderModels(body) {
  const models = body.models ?? [];
  const rb = body.rebuild;
  $('rebuild').textContent = !rb ? ''
    : rb.running ? `Rebuilding from the log since ${new Date(rb.startedAt).toLocaleTimeString()}…`
    : rb.error ? `Last rebuild failed: ${rb.error}`
    : rb.finishedAt ? `Last rebuild from the log finished ${ago(rb.finishedAt)}.`
    : '';
  const root = $('models');
  if (!models.length) {
    root.replaceChildren(h('p', { class: 'muted' }, 'No models defined.'));
    return;
  }
  const byName = new Map(models.map((m) => [m.name, m]));
  const depth = new Map();
  const depthOf = (name, seen = new Set()) => {
    if (depth.has(name)) return depth.get(name);
    const m = byName.get(name);
    if (!m || seen.has(name)) return 0; // a source table, or a cycle (reported by the server)
    seen.add(name);
    const d = 1 + Math.max(0, ...(m.dependsOn ?? []).map((x) => depthOf(x, seen)));
    depth.set(name, d);
    return d;
  };
  const inputs = new Set();
  for (const m of models) {
    depthOf(m.name);
    for (const d of m.dependsOn ?? []) if (!byName.has(d)) inputs.add(d);
  }
  const layers = [[...inputs].sort().map((name) => h('div', { class: 'node' }, h('div', { class: 'name' }, name)))];
  for (const m of [...models].sort((a, b) => a.name.localeCompare(b.name))) {
    const d = depth.get(m.name);
    (layers[d] ??= []).push(h('div', { class: 'node', 'data-model': m.name },
      h('div', { class: 'name' }, m.name, ' ', badge(m.state)),
      h('div', { class: 'deps' }, `${m.materialized ?? ''} · ${m.rows === null || m.rows === undefined ? '–' : fmtNum(m.rows)} rows · lag ${fmtMs(m.lagMs)}`),
      h('div', { class: 'deps' }, `← ${(m.dependsOn ?? []).join(', ') || 'nothing'}`),
      m.error ? h('div', { class: 'err' }, m.error) : null,
    ));
  }
  root.replaceChildren(...layers.map((nodes, i) =>
    h('div', { class: 'layer' }, h('h3', {}, i === 0 ? 'inputs' : `level ${i}`), ...(nodes ?? []))));
}

async function poll() {
  const now = Date.now();
  try {
    const [sourcesBody, tablesBody, modelsBody] = await Promise.all([api('/v1/sources'), api('/v1/tables'), api('/v1/models')]);
    const sources = sourcesBody.sources ?? [];
    const rates = new Map();
    const lags = {};
    for (const src of sources) {
      const end = src.log?.endOffset;
      const prev = lastOffsets.get(src.name);
      if (typeof end === 'number') {
        if (prev && now > prev.t) rates.set(src.name, Math.max(0, ((end - prev.end) * 1000) / (now - prev.t)));
        lastOffsets.set(src.name, { end, t: now });
      }
      lags[src.name] = (src.lagMs ?? 0) / 1000;
    }
    renderSources(sources, rates);
    renderTables(tablesBody.tables ?? []);
    renderModels(modelsBody);
    history.push({ t: now, rate: Object.fromEntries(rates), lag: lags });
    while (history.length && history[0].t < now - HISTORY_MS) history.shift();
    drawHistory();
    setConn('ok', 'connected');
    $('updated').textContent = `updated ${new Date(now).toLocaleTimeString()}`;
  } catch (e) {
    setConn('down', `API unreachable: ${e.message}`);
  }
}

function setConn(state, text) {
  const el = $('conn');
  el.dataset.state = state;
  el.textContent = text;
}

// ---------------------------------------------------------------------------------------------
// Charts, drawn by hand in SVG
// ---------------------------------------------------------------------------------------------

/** A nice upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

const PAD = { l: 44, r: 8, t: 8, b: 20 };

/** Sizes the SVG's coordinates to its pixels, so text keeps its shape at any width. */
function canvas(svg, ht) {
  const w = Math.max(200, Math.round(svg.clientWidth || 600));
  svg.setAttribute('viewBox', `0 0 ${w} ${ht}`);
  svg.replaceChildren();
  return w;
}

/** Axis numbers: enough digits to tell the gridlines apart. */
function fmtAxis(v) {
  return Math.abs(v) >= 1000 ? fmtNum(v) : String(Number(v.toPrecision(3)));
}

function axes(svg, w, ht, yMax, xLabels, yMin = 0) {
  for (let i = 0; i <= 4; i++) {
    const y = PAD.t + ((ht - PAD.t - PAD.b) * i) / 4;
    svg.append(s('line', { x1: PAD.l, x2: w - PAD.r, y1: y, y2: y, stroke: '#e5e8ee', 'stroke-width': 1 }));
    svg.append(s('text', { x: PAD.l - 4, y: y + 3, 'text-anchor': 'end' }, fmtAxis(yMax - ((yMax - yMin) * i) / 4)));
  }
  for (const [x, label, anchor] of xLabels) svg.append(s('text', { x, y: ht - 5, 'text-anchor': anchor }, label));
}

/** Time series: one line per key of `pick(point)`, over the last HISTORY_MS. */
function drawSeries(svgId, legendId, pick) {
  const svg = $(svgId);
  const ht = 180;
  const w = canvas(svg, ht);
  const now = Date.now();
  const keys = [...new Set(history.flatMap((p) => Object.keys(pick(p))))].sort();
  const yMax = niceMax(Math.max(0, ...history.flatMap((p) => Object.values(pick(p)))));
  const x = (t) => PAD.l + ((w - PAD.l - PAD.r) * (t - (now - HISTORY_MS))) / HISTORY_MS;
  const y = (v) => PAD.t + (ht - PAD.t - PAD.b) * (1 - v / yMax);
  axes(svg, w, ht, yMax, [[PAD.l, '-5 min', 'start'], [x(now - HISTORY_MS / 2), '-2.5 min', 'middle'], [w - PAD.r, 'now', 'end']]);
  keys.forEach((k, i) => {
    const pts = history.filter((p) => k in pick(p)).map((p) => `${x(p.t).toFixed(1)},${y(pick(p)[k]).toFixed(1)}`);
    if (!pts.length) return;
    svg.append(s('polyline', { points: pts.join(' '), fill: 'none', stroke: COLORS[i % COLORS.length], 'stroke-width': 2 }));
    // The newest point as a dot: a fresh page has only seconds of history, a few pixels of line.
    const [cx, cy] = pts[pts.length - 1].split(',');
    svg.append(s('circle', { cx, cy, r: 3, fill: COLORS[i % COLORS.length] }));
  });
  if (!keys.length) svg.append(s('text', { x: w / 2, y: ht / 2, 'text-anchor': 'middle' }, 'waiting for data…'));
  $(legendId).replaceChildren(...keys.map((k, i) => h('span', {}, h('i', { style: `background:${COLORS[i % COLORS.length]}` }), k)));
}

function drawHistory() {
  drawSeries('chart-throughput', 'legend-throughput', (p) => p.rate);
  drawSeries('chart-freshness', 'legend-freshness', (p) => p.lag);
}

// ---------------------------------------------------------------------------------------------
// SQL editor
// ---------------------------------------------------------------------------------------------

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL|NUMERIC)\b/i;

function renderResult(body) {
  const cols = body.columns ?? [];
  const rows = body.rows ?? [];
  const numeric = cols.map((c) => NUMERIC_TYPE.test(c.type ?? ''));
  const table = $('result');
  table.replaceChildren(
    h('thead', {}, h('tr', {}, cols.map((c, i) => h('th', { class: numeric[i] ? 'num' : undefined, title: c.type }, c.name)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((v, i) =>
      v === null
        ? h('td', { class: 'null' }, 'null')
        : h('td', { class: numeric[i] ? 'num' : undefined }, typeof v === 'object' ? JSON.stringify(v) : String(v)))))),
  );
  drawResultChart(cols, rows, numeric);
}

/**
 * A chart of the result when it has a label column and a numeric one: bars for a few
 * categories, a line for many rows or a numeric/temporal x axis.
 */
function drawResultChart(cols, rows, numeric) {
  const svg = $('result-chart');
  const yi = numeric.findIndex((n, i) => n && (i > 0 || numeric.length > 1));
  const xi = yi === 0 ? 1 : 0;
  if (cols.length < 2 || yi < 0 || rows.length === 0) {
    svg.hidden = true;
    return;
  }
  const data = rows.slice(0, 500).map((r) => [r[xi], Number(r[yi])]).filter(([, v]) => Number.isFinite(v));
  if (!data.length) {
    svg.hidden = true;
    return;
  }
  svg.hidden = false;
  const ht = 220;
  const w = canvas(svg, ht);
  const lo = Math.min(0, ...data.map(([, v]) => v));
  const hi = niceMax(Math.max(...data.map(([, v]) => v)));
  const span = hi - lo || 1;
  const y = (v) => PAD.t + (ht - PAD.t - PAD.b) * (1 - (v - lo) / span);
  const plotW = w - PAD.l - PAD.r;
  const bars = data.length <= 40 && !numeric[xi];
  const label = (v) => (v === null ? 'null' : String(v).slice(0, 16));
  const bw = plotW / data.length;
  // Bars few enough to name each one are labelled under it; otherwise the ends of the x axis.
  const xLabels = bars && data.length <= 16
    ? data.map(([k], i) => [PAD.l + (i + 0.5) * bw, label(k), 'middle'])
    : [[PAD.l, label(data[0][0]), 'start'], [w - PAD.r, label(data[data.length - 1][0]), 'end']];
  axes(svg, w, ht, hi, xLabels, lo);
  if (bars) {
    data.forEach(([k, v], i) => {
      const r = s('rect', { x: PAD.l + i * bw + bw * 0.1, y: Math.min(y(v), y(0)), width: bw * 0.8, height: Math.abs(y(0) - y(v)), fill: COLORS[0] });
      r.append(s('title', {}, `${label(k)}: ${fmtNum(v)}`));
      svg.append(r);
    });
  } else {
    const step = data.length > 1 ? plotW / (data.length - 1) : 0;
    svg.append(s('polyline', {
      points: data.map(([, v], i) => `${(PAD.l + i * step).toFixed(1)},${y(v).toFixed(1)}`).join(' '),
      fill: 'none', stroke: COLORS[0], 'stroke-width': 2,
    }));
  }
  svg.append(s('text', { x: w - PAD.r, y: PAD.t + 10, 'text-anchor': 'end' }, `${cols[yi].name} by ${cols[xi].name}`));
}

function showError(e) {
  const box = $('query-error');
  box.hidden = false;
  box.replaceChildren(h('b', {}, e.code ?? 'Error'), '\n', e.message);
}

async function runQuery() {
  const sql = $('sql').value.trim();
  if (!sql) return;
  const button = $('run');
  const status = $('query-status');
  button.disabled = true;
  status.textContent = 'running…';
  $('query-error').hidden = true;
  const t0 = performance.now();
  try {
    const body = await api('/v1/query', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ sql }) });
    renderResult(body);
    const n = body.rowCount ?? body.rows?.length ?? 0;
    status.textContent = `${fmtNum(n)} row${n === 1 ? '' : 's'} in ${fmtMs(performance.now() - t0)}${body.truncated ? ' (truncated)' : ''}`;
  } catch (e) {
    status.textContent = 'failed';
    $('result').replaceChildren();
    $('result-chart').hidden = true;
    showError(e);
  } finally {
    button.disabled = false;
  }
}

function init() {
  $('sql-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void runQuery();
  });
  $('sql').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      void runQuery();
    }
  });
  // Polls never overlap: the next starts 2 s after the previous one finished.
  const loop = async () => {
    await poll();
    setTimeout(loop, POLL_MS);
  };
  void loop();
}

init();
