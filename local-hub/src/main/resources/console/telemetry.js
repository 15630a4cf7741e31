// Telemetry, live: the newest device-to-cloud messages of the built-in endpoint, read through the hub's own
// GET /local-hub/telemetry (IoT Hub serves telemetry only to Event Hubs readers). Each poll passes the previous
// answer's cursor, so only new messages come back; the view keeps the newest ones and shows the rate of the
// last minute. Used by the device page (one device) and the Telemetry page (every device, or a filter).
import { api, seg } from './api.js';
import { h, show, time, errorBox, Live } from './ui.js';

/** Messages a view keeps (and asks for at most per poll). */
const KEPT = 50;

/** A live telemetry view: {el, setDevice(id), poll()}; poll it with a Live. */
export function telemetryView({ deviceId = null, showDevice = true } = {}) {
  let device = deviceId;
  let cursor = null;
  let messages = [];
  let generation = 0; // a filter change makes answers of older polls stale
  const rate = h('span', { class: 'muted', 'data-testid': 'telemetry-rate' });
  const note = h('div', { class: 'muted', 'data-testid': 'telemetry-note' });
  const list = h('div', { 'data-testid': 'telemetry-messages' });
  const el = h('div', {}, h('div', { class: 'toolbar' }, rate), note, list);

  function render() {
    if (messages.length === 0) {
      show(list, h('p', { class: 'muted', 'data-testid': 'telemetry-empty' },
        device ? `No telemetry from ${device} yet.` : 'No telemetry yet.'));
      return;
    }
    show(list, h('table', { class: 'telemetry' },
      h('thead', {}, h('tr', {}, [showDevice ? 'Device' : null, 'Enqueued', 'Body', 'Properties', 'System properties']
        .filter(c => c).map(c => h('th', {}, c)))),
      h('tbody', {}, messages.map(m => h('tr', { 'data-device': m.deviceId, 'data-sequence': m.partition + '/' + m.sequenceNumber },
        showDevice ? h('td', { class: 'mono' }, h('a', { href: '#/device/' + seg(m.deviceId) }, m.deviceId),
          m.moduleId ? ' / ' + m.moduleId : '') : null,
        h('td', { class: 'nowrap', title: m.enqueuedTimeUtc }, time(m.enqueuedTimeUtc)),
        h('td', { class: 'mono body', 'data-testid': 'telemetry-body' }, bodyText(m)),
        h('td', { class: 'mono' }, properties(m.properties)),
        h('td', { class: 'mono muted' }, properties(systemShown(m.systemProperties))))))));
  }

  async function poll() {
    const mine = generation;
    const params = ['top=' + KEPT];
    if (device) params.push('deviceId=' + seg(device));
    if (cursor) params.push('after=' + seg(cursor));
    let r;
    try {
      r = (await api('GET', '/local-hub/telemetry?' + params.join('&'))).json;
    } catch (e) {
      show(note, errorBox(e));
      throw e;
    }
    if (mine !== generation) return;
    cursor = r.cursor;
    messages = r.messages.concat(messages).slice(0, KEPT);
    const perSecond = Number(r.messagesPerSecond).toLocaleString(undefined, { maximumFractionDigits: 2 });
    show(rate, h('b', { 'data-testid': 'telemetry-per-second' }, perSecond), ' messages/s over the last minute (',
      (r.messagesLastMinuteExact ? '' : 'at least ') + Number(r.messagesLastMinute).toLocaleString(), ' messages)');
    show(note, r.more ? 'More messages arrived than this view shows: it keeps the newest ' + KEPT + '.' : '');
    render();
  }

  function setDevice(id) {
    device = id || null;
    cursor = null;
    messages = [];
    generation++;
    show(rate);
    render();
  }

  render();
  return { el, poll, setDevice };
}

/** The Telemetry page: every device's messages, or one device's (the filter). */
export function telemetryPage(view, deviceId) {
  const live = new Live();
  const tv = telemetryView({ deviceId });
  const filter = h('input', { type: 'text', 'data-testid': 'telemetry-filter', placeholder: 'every device',
    'aria-label': 'Device id', value: deviceId || '' });
  const apply = e => {
    e.preventDefault();
    const id = filter.value.trim();
    history.replaceState(null, '', id ? '#/telemetry/' + seg(id) : '#/telemetry');
    tv.setDevice(id); // the next poll (within a second) reads the new selection
  };
  show(view,
    h('h1', {}, 'Telemetry'),
    h('p', { class: 'summary' }, 'Device-to-cloud messages as the built-in endpoint holds them, newest first, '
      + 'refreshed every second.'),
    h('form', { class: 'toolbar', 'data-testid': 'telemetry-filter-form', onsubmit: apply },
      h('label', {}, 'Device id ', filter),
      h('button', { class: 'primary', type: 'submit', 'data-testid': 'telemetry-apply' }, 'Filter'),
      h('button', { type: 'button', 'data-testid': 'telemetry-clear',
        onclick: e => { filter.value = ''; apply(e); } }, 'Every device')),
    tv.el);
  live.every(1000, tv.poll);
  return live;
}

function bodyText(m) {
  const text = m.bodyEncoding === 'base64' ? 'base64: ' + m.body : m.body;
  const shown = text.length > 200 ? text.substring(0, 199) + '\u2026' : text;
  return m.bodyTruncated || text.length > 200 ? shown + ` (${m.bodyBytes} bytes)` : shown;
}

function properties(p) {
  const entries = Object.entries(p || {});
  if (entries.length === 0) return '';
  return entries.map(([k, v]) => h('div', {}, h('span', { class: 'key' }, k), ' = ', String(v)));
}

/** System properties without what the row already shows (device id, enqueued time). */
function systemShown(sys) {
  const { 'iothub-connection-device-id': d, 'iothub-enqueuedtime': t, ...rest } = sys || {};
  return rest;
}
