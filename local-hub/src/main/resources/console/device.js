// One device: its twin, refreshed live; a merge patch of desired properties or tags sent with the etag the
// edit started from (a change made meanwhile elsewhere is shown as a conflict, not overwritten); a direct
// method call; its cloud-to-device queue (send, purge) and the feedback the hub produced for it; its telemetry, live; the device's job records.
import { api, query, seg, quote, totalJobRecords, LIVE_RECORDS_LIMIT } from './api.js';
import { h, show, showIfChanged, time, json, compact, badge, errorBox, withoutMetadata, Live, Pager } from './ui.js';
import { telemetryView } from './telemetry.js';

export function devicePage(view, deviceId) {
  const live = new Live();
  let twin = null;
  let baseEtag = null; // the etag the edit is based on

  const facts = h('div', { 'data-testid': 'twin-facts' });
  const tags = h('pre', { class: 'json', 'data-testid': 'tags' });
  const desired = h('pre', { class: 'json', 'data-testid': 'desired' });
  const reported = h('pre', { class: 'json', 'data-testid': 'reported' });
  const loadError = h('div');
  const desiredVersion = h('span', { class: 'muted', 'data-testid': 'desired-version' });
  const reportedVersion = h('span', { class: 'muted', 'data-testid': 'reported-version' });

  // Edit desired properties or tags.
  const section = h('select', { 'data-testid': 'patch-section', 'aria-label': 'What to change' },
    h('option', { value: 'desired' }, 'desired properties'), h('option', { value: 'tags' }, 'tags'));
  const patch = h('textarea', { 'data-testid': 'patch', rows: 4, spellcheck: 'false' }, '{\n  "building": 43\n}');
  const base = h('span', { class: 'muted', 'data-testid': 'patch-base' });
  const patchResult = h('div', { 'data-testid': 'patch-result' });
  const rebase = () => {
    baseEtag = twin ? twin.etag : null;
    show(base, baseEtag ? `based on etag ${baseEtag} (version ${twin.version})` : '');
  };
  const sendPatch = async e => {
    e.preventDefault();
    let value;
    try {
      value = JSON.parse(patch.value);
    } catch (err) {
      show(patchResult, errorBox(new Error('The patch is not JSON: ' + err.message)));
      return;
    }
    const body = section.value === 'tags' ? { tags: value } : { properties: { desired: value } };
    try {
      const r = await api('PATCH', '/twins/' + seg(deviceId), { body, headers: baseEtag ? { 'If-Match': '"' + baseEtag + '"' } : {} });
      twin = r.json;
      renderTwin();
      rebase();
      show(patchResult, h('div', { class: 'ok' }, `Saved: the twin is now at version ${twin.version}.`));
    } catch (err) {
      if (err.status === 412) {
        show(patchResult, h('div', { class: 'error', 'data-testid': 'conflict' },
          `Conflict: the twin changed since this edit started (etag ${baseEtag}, now ${twin ? twin.etag : '?'}). `
          + 'Nothing was written. Check the twin above, then ',
          h('button', { type: 'button', 'data-testid': 'rebase', onclick: async () => { await refreshTwin(); rebase(); show(patchResult); } },
            'edit the current twin'),
          ' and save again.'));
      } else {
        show(patchResult, errorBox(err));
      }
    }
  };

  // Direct method.
  const methodName = h('input', { type: 'text', 'data-testid': 'method-name', value: 'lockDoor' });
  const methodPayload = h('textarea', { 'data-testid': 'method-payload', rows: 3, spellcheck: 'false' }, '{}');
  const methodTimeout = h('input', { type: 'number', min: 5, max: 300, value: '30', 'data-testid': 'method-timeout' });
  const methodResult = h('div', { 'data-testid': 'method-result' });
  const invoke = async e => {
    e.preventDefault();
    let payload;
    try {
      payload = methodPayload.value.trim() ? JSON.parse(methodPayload.value) : null;
    } catch (err) {
      show(methodResult, errorBox(new Error('The payload is not JSON: ' + err.message)));
      return;
    }
    show(methodResult, h('p', { class: 'muted' }, 'Calling ' + methodName.value + '\u2026'));
    try {
      const r = await api('POST', '/twins/' + seg(deviceId) + '/methods', { body: {
        methodName: methodName.value, payload, responseTimeoutInSeconds: Number(methodTimeout.value) } });
      show(methodResult, h('div', { class: 'ok' }, 'status ', h('b', { 'data-testid': 'method-status' }, String(r.json.status)),
        h('pre', { class: 'json', 'data-testid': 'method-payload-result' }, json(r.json.payload))));
    } catch (err) {
      show(methodResult, errorBox(err));
    }
  };

  // Cloud-to-device messages: the queue (read through the hub's own /local-hub route), send, purge.
  const c2dQueue = h('div', { 'data-testid': 'c2d-queue' });
  const c2dBody = h('textarea', { 'data-testid': 'c2d-body', rows: 2, spellcheck: 'false' }, 'hello');
  const c2dProps = h('textarea', { 'data-testid': 'c2d-properties', rows: 2, spellcheck: 'false' }, '{}');
  const c2dAck = h('select', { 'data-testid': 'c2d-ack', 'aria-label': 'Feedback' },
    ['none', 'positive', 'negative', 'full'].map(a => h('option', { value: a }, a)));
  const c2dResult = h('div', { 'data-testid': 'c2d-result' });
  const c2dFeedback = h('div', { 'data-testid': 'c2d-feedback' });
  const sendC2d = async e => {
    e.preventDefault();
    let properties;
    try {
      properties = c2dProps.value.trim() ? JSON.parse(c2dProps.value) : {};
    } catch (err) {
      show(c2dResult, errorBox(new Error('The properties are not JSON: ' + err.message)));
      return;
    }
    try {
      const r = await api('POST', '/local-hub/devices/' + seg(deviceId) + '/messages',
        { body: { body: c2dBody.value, properties, ack: c2dAck.value } });
      show(c2dResult, h('div', { class: 'ok' }, 'Queued as ', h('span', { class: 'mono' }, r.json.messageId)));
      await refreshQueue();
    } catch (err) {
      show(c2dResult, errorBox(err));
    }
  };
  const purge = async () => {
    try {
      const r = await api('DELETE', '/devices/' + seg(deviceId) + '/commands');
      show(c2dResult, h('div', { class: 'ok' }, `Purged ${r.json.totalMessagesPurged} message(s).`));
      await refreshQueue();
    } catch (err) {
      show(c2dResult, errorBox(err));
    }
  };

  // Its telemetry, newest first, with the rate of the last minute.
  const telemetry = telemetryView({ deviceId, showDevice: false });

  // Job records of this device.
  const records = h('div', { 'data-testid': 'device-jobs' });
  const pager = new Pager(() => refreshRecords());
  const recordsNote = h('span', { class: 'muted' });
  const refreshButton = h('button', { 'data-testid': 'refresh-records', onclick: () => refreshRecords() }, 'Refresh');

  // Everything below the heading is about a device that exists: hidden while the hub says it does not.
  const body = h('div', { 'data-testid': 'device-body' });
  show(view,
    h('p', {}, h('a', { href: '#/devices' }, '\u2190 Devices')),
    h('h1', {}, 'Device ', h('span', { class: 'mono', 'data-testid': 'device-id' }, deviceId)),
    loadError, body);
  show(body, facts,
    h('div', { class: 'grid' },
      h('div', { class: 'card' }, h('h2', {}, 'Desired properties ', desiredVersion), desired),
      h('div', { class: 'card' }, h('h2', {}, 'Reported properties ', reportedVersion), reported),
      h('div', { class: 'card' }, h('h2', {}, 'Tags'), tags)),
    h('div', { class: 'grid' },
      h('form', { class: 'card stack', 'data-testid': 'patch-form', onsubmit: sendPatch },
        h('h2', {}, 'Change the twin'),
        h('label', {}, 'Merge patch of the ', section, ' (null removes a property)'), patch,
        h('p', {}, h('button', { class: 'primary', type: 'submit', 'data-testid': 'save-patch' }, 'Save'), ' ', base),
        patchResult),
      h('form', { class: 'card stack', 'data-testid': 'method-form', onsubmit: invoke },
        h('h2', {}, 'Invoke a direct method'),
        h('label', {}, 'Method name'), methodName,
        h('label', {}, 'Payload (JSON)'), methodPayload,
        h('label', {}, 'Response timeout (s)'), methodTimeout,
        h('p', {}, h('button', { class: 'primary', type: 'submit', 'data-testid': 'invoke' }, 'Invoke')),
        methodResult)),
    h('form', { class: 'card stack', 'data-testid': 'c2d-form', onsubmit: sendC2d },
      h('h2', {}, 'Cloud-to-device messages'), c2dQueue,
      h('label', {}, 'Body'), c2dBody,
      h('label', {}, 'Properties (JSON object of strings)'), c2dProps,
      h('label', {}, 'Feedback (iothub-ack) ', c2dAck),
      h('p', {}, h('button', { class: 'primary', type: 'submit', 'data-testid': 'c2d-send' }, 'Send'), ' ',
        h('button', { type: 'button', 'data-testid': 'c2d-purge', onclick: purge }, 'Purge the queue')),
      c2dResult,
      h('h3', {}, 'Feedback seen'), c2dFeedback),
    h('div', { class: 'card spaced', 'data-testid': 'telemetry-card' },
      h('h2', {}, 'Telemetry ', h('a', { class: 'muted', href: '#/telemetry/' + seg(deviceId) }, '(full page)')), telemetry.el),
    h('h2', {}, 'Job records'), h('div', { class: 'toolbar' }, refreshButton, recordsNote), records, pager.el);

  function renderTwin() {
    showIfChanged(facts, [twin.connectionState, twin.status, twin.lastActivityTime, twin.version, twin.etag], () =>
      h('dl', { class: 'facts' },
        h('dt', {}, 'Connection'), h('dd', { 'data-testid': 'connection' }, badge(twin.connectionState || '')),
        h('dt', {}, 'Status'), h('dd', {}, badge(twin.status || '')),
        h('dt', {}, 'Last activity'), h('dd', {}, time(twin.lastActivityTime)),
        h('dt', {}, 'Twin version / etag'), h('dd', { class: 'mono', 'data-testid': 'version' }, `${twin.version} / ${twin.etag}`)));
    showIfChanged(desired, twin.properties?.desired, v => json(withoutMetadata(v)));
    showIfChanged(reported, twin.properties?.reported, v => json(withoutMetadata(v)));
    showIfChanged(desiredVersion, twin.properties?.desired?.$version, v => 'version ' + v);
    showIfChanged(reportedVersion, twin.properties?.reported?.$version, v => 'version ' + v);
    showIfChanged(tags, twin.tags, v => json(v ?? {}));
  }

  async function refreshTwin() {
    try {
      twin = (await api('GET', '/twins/' + seg(deviceId))).json;
      show(loadError);
      body.classList.remove('hidden');
      renderTwin();
      if (baseEtag === null) rebase();
    } catch (e) {
      const unknown = e.status === 404;
      body.classList.toggle('hidden', unknown); // no twin to edit, no device to call
      show(loadError, errorBox(e), unknown ? h('p', { class: 'muted', 'data-testid': 'no-device' },
        'The hub has no device with this id: ', h('a', { href: '#/devices' }, 'see the devices'), '.') : null);
      throw e;
    }
  }

  async function refreshRecords() {
    const page = await query('SELECT * FROM devices.jobs WHERE devices.jobs.deviceId = ' + quote(deviceId), 20, pager.token);
    pager.update(page.continuation);
    showIfChanged(records, page.rows, rows => rows.length === 0
      ? h('p', { class: 'muted' }, 'No job has run on this device yet.')
      : h('table', {},
        h('thead', {}, h('tr', {}, ['Job', 'Type', 'Status', 'Started', 'Ended', 'Outcome'].map(c => h('th', {}, c)))),
        h('tbody', {}, rows.map(r => h('tr', { 'data-job': r.jobId },
          h('td', {}, h('a', { href: '#/job/' + seg(r.jobId) }, r.jobId)),
          h('td', {}, r.jobType), h('td', {}, badge(r.status)),
          h('td', {}, time(r.startTimeUtc)), h('td', {}, time(r.endTimeUtc)),
          h('td', { class: 'mono' }, outcome(r)))))));
  }

  async function refreshQueue() {
    const q = (await api('GET', '/local-hub/devices/' + seg(deviceId) + '/messages')).json;
    showIfChanged(c2dQueue, q.messages, messages => messages.length === 0
      ? h('p', { class: 'muted', 'data-testid': 'c2d-depth' }, 'The queue is empty.')
      : h('div', {}, h('p', { 'data-testid': 'c2d-depth' }, `${q.depth} message(s) waiting (at most 50)`),
        h('table', {},
          h('thead', {}, h('tr', {}, ['Message id', 'State', 'Deliveries', 'Enqueued', 'Expires', 'Feedback'].map(c => h('th', {}, c)))),
          h('tbody', {}, messages.map(m => h('tr', { 'data-message': m.messageId },
            h('td', { class: 'mono' }, m.messageId), h('td', {}, badge(m.state)), h('td', {}, String(m.deliveryCount)),
            h('td', {}, time(m.enqueuedTimeUtc)), h('td', {}, time(m.expiryTimeUtc)), h('td', {}, m.ack)))))));
  }

  // The feedback records the hub produced for this device's messages (through its own /local-hub route: IoT Hub
  // shows them only to feedback receivers), newest first, with where the feedback message carrying each one is.
  async function refreshFeedback() {
    const f = (await api('GET', '/local-hub/feedback?deviceId=' + encodeURIComponent(deviceId) + '&top=' + FEEDBACK_ROWS)).json;
    showIfChanged(c2dFeedback, f.records, records => records.length === 0
      ? h('p', { class: 'muted', 'data-testid': 'c2d-feedback-none' },
        'No feedback yet: a message sent with feedback (iothub-ack) positive, negative or full gets a record here '
        + 'when the device completes, rejects or abandons it too often, when it expires, or when it is purged.')
      : h('div', {},
        h('p', { class: 'muted' }, `The newest ${records.length} record(s), newest first, as feedback receivers get them; the last column says `
          + `whether one has yet. The hub keeps the newest ${f.kept.toLocaleString("en-US")} records of all its devices.`),
        h('table', {},
          h('thead', {}, h('tr', {}, ['Time', 'Original message id', 'Status', 'Description', 'Feedback message'].map(c => h('th', {}, c)))),
          h('tbody', {}, records.map(r => h('tr', { 'data-feedback': r.originalMessageId },
            h('td', {}, time(r.enqueuedTimeUtc)), h('td', { class: 'mono' }, r.originalMessageId),
            h('td', { 'data-testid': 'feedback-status' }, badge(r.statusCode)), h('td', {}, r.description),
            h('td', { 'data-testid': 'feedback-batch', title: r.batch.messageId ? 'feedback message ' + r.batch.messageId : '' },
              badge(r.batch.state), ' ', BATCH_WORDS[r.batch.state] || '',
              r.batch.deliveryCount > 0 ? ` (abandoned ${r.batch.deliveryCount} time(s))` : '')))))));
  }

  live.every(1000, refreshTwin);
  live.every(2000, refreshQueue);
  live.every(2000, refreshFeedback);
  live.every(1000, telemetry.poll);
  let loaded = false;
  live.every(2000, async () => {
    const cheap = (await totalJobRecords()) <= LIVE_RECORDS_LIMIT;
    show(recordsNote, cheap ? 'refreshed every few seconds' : 'the hub holds many job records: press Refresh to update');
    if (cheap || !loaded) {
      loaded = true;
      await refreshRecords();
    }
  });
  return live;
}

const FEEDBACK_ROWS = 10;
const BATCH_WORDS = {
  pending: 'goes out with the next feedback message',
  waiting: 'no feedback receiver has it yet',
  received: 'a feedback receiver has it, not completed',
  completed: 'received and completed',
  expired: 'nobody read it in time',
  dropped: 'abandoned too often, dropped',
};

export function outcome(r) {
  const m = r.outcome?.deviceMethodResponse;
  if (m) return `status ${m.status} ${compact(m.payload, 60)}`;
  if (r.error) return `${r.error.code}: ${r.error.description}`;
  return '';
}
