// Devices: one page of an IoT Hub query over the twins, refreshed live; the query box takes the hub's own
// query language and shows where a bad query goes wrong. Pages are fetched with continuation tokens, so a
// million devices are never loaded at once.
import { api, query, seg, LIVE_COUNT_LIMIT } from './api.js';
import { h, show, showIfChanged, time, compact, badge, errorBox, plural, Live, Pager } from './ui.js';

const DEFAULT_QUERY = 'SELECT * FROM devices';

export function devicesPage(view, arg) {
  const live = new Live();
  let text = sessionStorage.getItem('devices.query') || DEFAULT_QUERY;
  let pageSize = Number(sessionStorage.getItem('devices.pageSize') || 50);
  const input = h('input', { type: 'text', class: 'query', 'data-testid': 'query', value: text, spellcheck: 'false',
    'aria-label': 'IoT Hub query' });
  const size = h('select', { 'data-testid': 'page-size', 'aria-label': 'Devices per page' },
    [20, 50, 100].map(n => h('option', { value: String(n), selected: n === pageSize }, n + ' per page')));
  const stats = h('p', { class: 'summary', 'data-testid': 'device-stats' }, '\u00a0');
  const message = h('div');
  const table = h('div', { 'data-testid': 'devices-table' });
  const pager = new Pager(() => refresh());

  const run = () => {
    text = input.value.trim() || DEFAULT_QUERY;
    pageSize = Number(size.value);
    sessionStorage.setItem('devices.query', text);
    sessionStorage.setItem('devices.pageSize', String(pageSize));
    pager.reset();
    refresh();
  };
  input.addEventListener('keydown', e => { if (e.key === 'Enter') run(); });
  size.addEventListener('change', run);

  show(view,
    h('h1', {}, 'Devices'),
    stats,
    h('div', { class: 'toolbar' }, input, h('button', { class: 'primary', 'data-testid': 'run-query', onclick: run }, 'Run query'),
      h('button', { onclick: () => { input.value = DEFAULT_QUERY; run(); } }, 'Reset'), size),
    h('p', { class: 'muted' }, 'Examples: ', h('code', {}, "SELECT * FROM devices WHERE connectionState = 'Connected'"), ' \u00b7 ',
      h('code', {}, 'SELECT * FROM devices WHERE properties.desired.building = 43'), ' \u00b7 ',
      h('code', {}, 'SELECT COUNT() AS n FROM devices GROUP BY status')),
    message, table, pager.el);

  let generation = 0;
  async function refresh() {
    const mine = ++generation;
    try {
      const page = await query(text, pageSize, pager.token);
      if (mine !== generation) return;
      show(message);
      pager.update(page.continuation);
      showIfChanged(table, page.rows, rows => rows.length && rows[0].deviceId !== undefined && rows[0].etag !== undefined
        ? twinTable(rows) : rawTable(rows));
    } catch (e) {
      if (mine !== generation) return;
      if (e.status === 400) {
        show(message, errorBox(e, text));
        if (e.position) input.setSelectionRange(e.position - 1, e.position);
        showIfChanged(table, null, () => []);
        pager.update(null);
      } else {
        show(message, errorBox(e));
        throw e;
      }
    }
  }

  let connected = null;
  const countButton = h('button', { 'data-testid': 'count-connected', onclick: () => countConnected().then(renderStats) }, 'count connected');
  async function countConnected() {
    const r = await query("SELECT COUNT() AS n FROM devices WHERE connectionState = 'Connected'", 1);
    connected = r.rows[0]?.n ?? 0;
  }
  let totals = null;
  function renderStats() {
    if (!totals) return;
    const big = totals.totalDeviceCount > LIVE_COUNT_LIMIT;
    show(stats, `${plural(totals.totalDeviceCount, 'device')} (${totals.enabledDeviceCount.toLocaleString()} enabled, `
      + `${totals.disabledDeviceCount.toLocaleString()} disabled), `,
      connected === null ? '' : `${connected.toLocaleString()} connected${big ? ' when counted' : ''} `,
      big ? countButton : '');
  }
  async function refreshStats() {
    totals = (await api('GET', '/statistics/devices')).json;
    if (totals.totalDeviceCount <= LIVE_COUNT_LIMIT) await countConnected();
    renderStats();
  }

  live.every(1000, refresh);
  live.every(5000, refreshStats);
  return live;
}

function twinTable(rows) {
  return h('table', {},
    h('thead', {}, h('tr', {}, ['Device id', 'Connection', 'Last activity', 'Status', 'Tags', 'Desired / reported version']
      .map(c => h('th', {}, c)))),
    h('tbody', {}, rows.map(t => h('tr', { 'data-device': t.deviceId },
      h('td', {}, h('a', { href: '#/device/' + seg(t.deviceId) }, t.deviceId)),
      h('td', { 'data-testid': 'connection' }, badge(t.connectionState || '')),
      h('td', {}, time(t.lastActivityTime)),
      h('td', {}, badge(t.status || '')),
      h('td', { class: 'mono' }, compact(t.tags)),
      h('td', {}, `${t.properties?.desired?.$version ?? ''} / ${t.properties?.reported?.$version ?? ''}`)))));
}

function rawTable(rows) {
  if (!rows.length) return h('p', { class: 'muted', 'data-testid': 'no-rows' }, 'No rows.');
  const keys = [...new Set(rows.flatMap(r => Object.keys(r)))];
  return h('table', {},
    h('thead', {}, h('tr', {}, keys.map(k => h('th', {}, k)))),
    h('tbody', {}, rows.map(r => h('tr', {}, keys.map(k => h('td', { class: 'mono' },
      typeof r[k] === 'object' ? compact(r[k], 120) : r[k]))))));
}
