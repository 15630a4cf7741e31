// One job: its definition and progress, refreshed every second, cancel, and its per-device records
// (devices.jobs rows) paged and filtered by status, failures first.
import { api, query, seg, quote, totalJobRecords, LIVE_RECORDS_LIMIT } from './api.js';
import { h, show, showIfChanged, time, json, badge, errorBox, progress, Live, Pager } from './ui.js';
import { TERMINAL, cancelButton, jobType, statusBadge } from './jobs.js';
import { outcome } from './device.js';
import { Pace } from './tier.js';

const FAILURES_FIRST = 'failures-first';

export function jobPage(view, jobId) {
  const live = new Live();
  const summary = h('div', { 'data-testid': 'job-summary' });
  const bar = h('div', { 'data-testid': 'job-progress' });
  const pace = new Pace();
  const actions = h('div', { class: 'toolbar' });
  const message = h('div');
  const records = h('div', { 'data-testid': 'job-records' });
  const filter = h('select', { 'data-testid': 'record-filter', 'aria-label': 'Device status',
    onchange: () => { phase = 0; pager.reset(); refreshRecords(); } },
    h('option', { value: FAILURES_FIRST }, 'all devices, failures first'),
    ['failed', 'completed', 'running', 'queued', 'cancelled'].map(s => h('option', { value: s }, s + ' only')));
  const pager = new Pager(() => refreshRecords());
  const refreshButton = h('button', { 'data-testid': 'refresh-records', onclick: () => refreshRecords() }, 'Refresh');
  const recordsNote = h('span', { class: 'muted' });
  let job = null;

  show(view,
    h('p', {}, h('a', { href: '#/jobs' }, '\u2190 Jobs')),
    h('h1', {}, 'Job ', h('span', { class: 'mono', 'data-testid': 'job-id' }, jobId)),
    message, bar, pace.el, actions, summary,
    h('h2', {}, 'Devices'),
    h('div', { class: 'toolbar' }, filter, refreshButton, recordsNote),
    records, pager.el);

  async function refreshJob() {
    try {
      job = (await api('GET', '/jobs/v2/' + seg(jobId))).json;
      show(message);
    } catch (e) {
      show(message, errorBox(e));
      throw e;
    }
    showIfChanged(bar, job.deviceJobStatistics || {}, s => progress(s, true));
    pace.update(job);
    showIfChanged(actions, [job.status, job.deviceJobStatistics?.failedCount], ([status]) => [statusBadge(job),
      TERMINAL.includes(status) ? null : cancelButton(jobId, message, refreshJob)]);
    showIfChanged(summary, job, j => h('dl', { class: 'facts' },
      h('dt', {}, 'Type'), h('dd', { 'data-testid': 'job-type' }, jobType(j)),
      h('dt', {}, 'Devices'), h('dd', { class: 'mono' }, j.queryCondition),
      j.cloudToDeviceMethod ? [h('dt', {}, 'Method'), h('dd', { class: 'mono' },
        j.cloudToDeviceMethod.methodName + ' ' + JSON.stringify(j.cloudToDeviceMethod.payload))] : null,
      j.updateTwin ? [h('dt', {}, 'Twin patch'), h('dd', {}, h('pre', { class: 'json' }, json(j.updateTwin)))] : null,
      h('dt', {}, 'Created'), h('dd', { title: j.createdTime, 'data-testid': 'job-created' }, time(j.createdTime)),
      h('dt', {}, 'Start'), h('dd', { title: j.startTime }, time(j.startTime),
        // IoT Hub echoes the requested start: an SDK's "now" is the client's clock, which may be behind the hub's.
        new Date(j.startTime) < new Date(j.createdTime)
          ? h('span', { class: 'muted' }, ' (the start time requested by the client; the job started when it was created)') : null),
      h('dt', {}, 'End'), h('dd', { title: j.endTime || '' }, time(j.endTime)),
      h('dt', {}, 'Max execution time'), h('dd', {}, j.maxExecutionTimeInSeconds + ' s'),
      j.failureReason ? [h('dt', {}, 'Failure'), h('dd', {}, j.failureReason)] : null,
      j.statusMessage ? [h('dt', {}, 'Message'), h('dd', {}, j.statusMessage)] : null));
  }

  // "Failures first" walks two queries one after the other; the pager's tokens belong to the current one.
  let phase = 0;
  function recordQuery() {
    const base = 'SELECT * FROM devices.jobs WHERE devices.jobs.jobId = ' + quote(jobId);
    if (filter.value !== FAILURES_FIRST) return base + ' AND devices.jobs.status = ' + quote(filter.value);
    return base + (phase === 0 ? " AND devices.jobs.status = 'failed'" : " AND devices.jobs.status != 'failed'");
  }
  const nextPhase = () => { phase = 1; pager.reset(); refreshRecords(); };
  const previousPhase = () => { phase = 0; pager.reset(); refreshRecords(); };

  // With no failures at all, "failures first" shows the other devices straight away (and looks again each time).
  let skipped = false;
  // A first page asks for TOP 51 rows, so the hub stops scanning after them (a full scan of a million records
  // takes seconds); the page after it then needs the full query's own continuation token, fetched on demand.
  const FROM_TOP = 'from-top';
  async function recordsPage(text) {
    if (pager.tokens.length === 1) {
      const top = await query(text.replace(/^SELECT \*/, 'SELECT TOP 51 *'), 51, null);
      return { rows: top.rows.slice(0, 50), continuation: top.rows.length > 50 ? FROM_TOP : null };
    }
    if (pager.token === FROM_TOP) {
      const first = await query(text, 50, null);
      pager.tokens[pager.tokens.length - 1] = first.continuation;
    }
    return query(text, 50, pager.token);
  }

  async function refreshRecords() {
    const firstPage = pager.tokens.length === 1;
    if (skipped && firstPage) phase = 0; // look again for failures
    let page = await recordsPage(recordQuery());
    if (filter.value === FAILURES_FIRST && phase === 0 && firstPage && page.rows.length === 0 && !page.continuation) {
      skipped = true; // stays while the user pages through the others
      phase = 1;
      page = await recordsPage(recordQuery());
    } else if (firstPage) {
      skipped = false;
    }
    pager.update(page.continuation);
    const stats = job?.deviceJobStatistics;
    const others = stats ? (stats.deviceCount || 0) - (stats.failedCount || 0) : 1;
    if (filter.value === FAILURES_FIRST && phase === 0 && !page.continuation && others > 0) {
      pager.nextButton.disabled = false;
      pager.nextButton.onclick = nextPhase; // after the last page of failures come the others (if any)
    } else {
      pager.nextButton.onclick = null;
    }
    if (phase === 1 && !skipped && pager.tokens.length === 1) {
      pager.prevButton.disabled = false;
      pager.prevButton.onclick = previousPhase;
    } else {
      pager.prevButton.onclick = null;
    }
    const heading = filter.value !== FAILURES_FIRST ? null
      : phase === 0 ? 'Failed devices first' : skipped ? 'No device failed.' : 'Devices that did not fail';
    showIfChanged(records, [heading, page.rows], ([title, rows]) => [
      title ? h('p', { class: 'muted', 'data-testid': 'records-phase' }, title) : null,
      rows.length === 0 ? h('p', { class: 'muted', 'data-testid': 'no-records' },
        job && ['scheduled', 'queued'].includes(job.status) ? 'The job has not started yet.' : 'No devices here.')
        : h('table', {},
          h('thead', {}, h('tr', {}, ['Device', 'Status', 'Started', 'Ended', 'Outcome'].map(c => h('th', {}, c)))),
          h('tbody', {}, rows.map(r => h('tr', { 'data-device': r.deviceId },
            h('td', {}, h('a', { href: '#/device/' + seg(r.deviceId) }, r.deviceId)),
            h('td', { 'data-testid': 'record-status' }, badge(r.status)),
            h('td', {}, time(r.startTimeUtc)), h('td', {}, time(r.endTimeUtc)),
            h('td', { class: 'mono', 'data-testid': 'record-outcome' }, outcome(r))))))]);
  }

  live.every(1000, refreshJob);
  // Records refresh by themselves while they are cheap to query (see LIVE_RECORDS_LIMIT), and once more when
  // the job has ended; on a big hub the Refresh button updates them.
  let loadedFor = null;
  live.every(1000, async () => {
    if (!job) return;
    const state = job.status + (TERMINAL.includes(job.status) ? '' : '/' + Date.now());
    const cheap = (await totalJobRecords()) <= LIVE_RECORDS_LIMIT;
    show(recordsNote, cheap ? '' : 'the hub holds many job records: press Refresh to update this list');
    if (loadedFor === null || (loadedFor !== state && (cheap || TERMINAL.includes(job.status)))) {
      loadedFor = state;
      await refreshRecords();
    }
  });
  return live;
}
