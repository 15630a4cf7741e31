// Jobs: every job with its progress (from the job's own deviceJobStatistics, aggregated by the hub), refreshed
// every second; cancel; and a form that schedules a direct-method or twin-update job.
import { api, seg } from './api.js';
import { estimate } from './tier.js';
import { h, show, showIfChanged, time, errorBox, progress, plural, Live, Pager } from './ui.js';

export const TERMINAL = ['completed', 'failed', 'cancelled'];

export function jobsPage(view) {
  const live = new Live();
  const table = h('div', { 'data-testid': 'jobs-table' });
  const message = h('div');
  const pager = new Pager(() => refresh());
  const typeFilter = h('select', { 'data-testid': 'job-type-filter', 'aria-label': 'Job type', onchange: () => { pager.reset(); refresh(); } },
    h('option', { value: '' }, 'all types'), h('option', { value: 'scheduleDeviceMethod' }, 'direct method'),
    h('option', { value: 'scheduleUpdateTwin' }, 'twin update'));
  const statusFilter = h('select', { 'data-testid': 'job-status-filter', 'aria-label': 'Job status', onchange: () => { pager.reset(); refresh(); } },
    h('option', { value: '' }, 'any status'), ['queued', 'scheduled', 'running', 'completed', 'failed', 'cancelled']
      .map(s => h('option', { value: s }, s)));

  show(view,
    h('h1', {}, 'Jobs'),
    h('div', { class: 'toolbar' }, typeFilter, statusFilter),
    message, table, pager.el,
    scheduleForm(() => { pager.reset(); refresh(); }));

  async function refresh() {
    let path = '/jobs/v2/query?';
    if (typeFilter.value) path += 'jobType=' + seg(typeFilter.value) + '&';
    if (statusFilter.value) path += 'jobStatus=' + seg(statusFilter.value);
    const headers = { 'x-ms-max-item-count': '20' };
    if (pager.token) headers['x-ms-continuation'] = pager.token;
    try {
      const r = await api('GET', path, { headers });
      show(message);
      pager.update(r.continuation);
      showIfChanged(table, r.json, jobsTable);
    } catch (e) {
      show(message, errorBox(e));
      throw e;
    }
  }

  function jobsTable(jobs) {
    if (!jobs.length) return h('p', { class: 'muted' }, 'No jobs yet: schedule one below, or run the tutorial.');
    return h('table', {},
      h('thead', {}, h('tr', {}, ['Job', 'Type', 'Status', 'Created', 'Start', 'End', 'Progress', ''].map(c => h('th', {}, c)))),
      h('tbody', {}, jobs.map(j => h('tr', { 'data-job': j.jobId },
        h('td', {}, h('a', { href: '#/job/' + seg(j.jobId) }, j.jobId)),
        h('td', { 'data-testid': 'job-type' }, jobType(j)),
        h('td', {}, statusBadge(j)),
        timeCell(j.createdTime), timeCell(j.startTime), timeCell(j.endTime),
        h('td', {}, progress(j.deviceJobStatistics)),
        h('td', {}, TERMINAL.includes(j.status) ? '' : cancelButton(j.jobId, message, refresh))))));
  }

  live.every(1000, refresh);
  return live;
}

/** The job's type as both pages show it: what it does, then IoT Hub's name for the type. */
export function jobType(j) {
  return j.type === 'scheduleDeviceMethod' ? `direct method ${j.cloudToDeviceMethod?.methodName || ''} (scheduleDeviceMethod)`
    : j.type === 'scheduleUpdateTwin' ? 'twin update (scheduleUpdateTwin)' : j.type;
}

/**
 * The job's status as IoT Hub reports it; a job that "completed" with failed devices (IoT Hub's wording even when
 * every device failed) is shown red, with the failures beside it, as the portal's failed count would.
 */
export function statusBadge(j) {
  const failed = j.deviceJobStatistics?.failedCount || 0;
  const pill = h('span', { class: 'badge ' + j.status + (failed > 0 ? ' has-failures' : ''), 'data-testid': 'job-status' }, j.status);
  return failed > 0 ? [pill, ' ', h('span', { class: 'failed-text', 'data-testid': 'job-failures' },
    plural(failed, 'device') + ' failed')] : pill;
}

/** A time cell: local time with its zone; the hub's UTC text as the tooltip. */
export function timeCell(text) {
  return h('td', { title: text || '' }, time(text));
}

export function cancelButton(jobId, message, after) {
  return h('button', { class: 'danger', 'data-testid': 'cancel', onclick: async () => {
    if (!confirm('Cancel job ' + jobId + '?')) return;
    try {
      await api('POST', '/jobs/v2/' + seg(jobId) + '/cancel');
      await after();
    } catch (e) {
      show(message, errorBox(e));
    }
  } }, 'Cancel');
}

/** The form that schedules a job, defaulting to the tutorial's lockDoor job on myDeviceId. */
function scheduleForm(created) {
  const type = h('select', { 'data-testid': 'new-type', name: 'type' },
    h('option', { value: 'scheduleDeviceMethod' }, 'invoke a direct method'),
    h('option', { value: 'scheduleUpdateTwin' }, 'update twins (desired properties / tags)'));
  const jobId = h('input', { type: 'text', 'data-testid': 'new-job-id', value: 'console-' + Date.now().toString(36) });
  const condition = h('input', { type: 'text', class: 'query', 'data-testid': 'new-condition', value: "deviceId IN ['myDeviceId']" });
  const methodName = h('input', { type: 'text', 'data-testid': 'new-method-name', value: 'lockDoor' });
  const payload = h('textarea', { 'data-testid': 'new-payload', rows: 2, spellcheck: 'false' }, '{}');
  const methodFields = h('div', {}, h('label', {}, 'Method name'), methodName, h('label', {}, 'Payload (JSON)'), payload);
  const twinPatch = h('textarea', { 'data-testid': 'new-twin-patch', rows: 4, spellcheck: 'false' },
    '{\n  "properties": { "desired": { "building": 43, "floor": 3 } }\n}');
  const twinFields = h('div', { class: 'hidden' }, h('label', {}, 'Twin patch: "tags" and/or "properties": {"desired": ...} (JSON)'), twinPatch);
  // Empty: start now. The start time is then left out, and the hub sets it to the job's creation time, as when
  // the Azure CLI schedules a job; the browser's clock (and this field's whole minutes) would put it before that.
  const start = h('input', { type: 'datetime-local', 'data-testid': 'new-start', value: '' });
  const maxSeconds = h('input', { type: 'number', min: 1, value: '3600', 'data-testid': 'new-max-seconds' });
  const result = h('div', { 'data-testid': 'new-result' });
  type.addEventListener('change', () => {
    methodFields.classList.toggle('hidden', type.value !== 'scheduleDeviceMethod');
    twinFields.classList.toggle('hidden', type.value !== 'scheduleUpdateTwin');
  });

  const submit = async e => {
    e.preventDefault();
    const body = { jobId: jobId.value.trim(), type: type.value, queryCondition: condition.value,
      maxExecutionTimeInSeconds: Number(maxSeconds.value) };
    if (start.value) body.startTime = new Date(start.value).toISOString();
    try {
      if (type.value === 'scheduleDeviceMethod') {
        body.cloudToDeviceMethod = { methodName: methodName.value, payload: payload.value.trim() ? JSON.parse(payload.value) : null,
          responseTimeoutInSeconds: 30 };
      } else {
        body.updateTwin = { etag: '*', ...JSON.parse(twinPatch.value) };
      }
    } catch (err) {
      show(result, errorBox(new Error('Not JSON: ' + err.message)));
      return;
    }
    try {
      await api('PUT', '/jobs/v2/' + seg(body.jobId), { body });
      show(result, h('div', { class: 'ok' }, 'Scheduled ', h('a', { href: '#/job/' + seg(body.jobId) }, body.jobId), '.'));
      jobId.value = 'console-' + Date.now().toString(36);
      await created();
    } catch (err) {
      show(result, errorBox(err, body.queryCondition));
    }
  };

  return h('form', { class: 'card stack', 'data-testid': 'schedule-form', onsubmit: submit },
    h('h2', {}, 'Schedule a job'),
    h('label', {}, 'Job type'), type,
    h('label', {}, 'Job id (letters, digits, hyphens)'), jobId,
    h('label', {}, 'Devices: query condition (the WHERE part of a query; * for all devices)'), condition,
    estimate(condition),
    methodFields, twinFields,
    h('label', {}, 'Start time (your local time; empty: now)'), start,
    h('label', {}, 'Maximum execution time (s)'), maxSeconds,
    h('p', {}, h('button', { class: 'primary', type: 'submit', 'data-testid': 'schedule' }, 'Schedule job')),
    result);
}
