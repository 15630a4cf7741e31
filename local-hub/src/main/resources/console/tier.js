// Tier emulation (local-hub --tier): the hub's tier and its jobs pace, shown in the header; a running job's
// throughput and estimated end; and how long a job would take at the tier's pace, before scheduling it.
import { api, query } from './api.js';
import { h, show } from './ui.js';

let cached = null;

/** {tier: null} without a tier, else {tier, units, describe, jobDeviceOperationsPerSecond, maxActiveJobs}. */
export function tierInfo() {
  if (!cached) {
    cached = api('GET', '/local/tier').then(r => r.json || { tier: null }).catch(() => ({ tier: null }));
  }
  return cached;
}

/** Fills the header's tier badge (nothing without a tier). */
export async function showTier(el) {
  const t = await tierInfo();
  if (t.tier) {
    show(el, h('span', { class: 'badge', 'data-testid': 'hub-tier',
      title: `IoT Hub ${t.describe}: jobs run ${t.jobDeviceOperationsPerSecond} device operations/s, `
        + `${t.maxActiveJobs} active job(s) at once` },
      `tier ${t.describe} \u00b7 jobs ${t.jobDeviceOperationsPerSecond}/s`));
  }
}

function duration(seconds) {
  if (seconds < 90) return Math.round(seconds) + ' s';
  if (seconds < 5400) return Math.round(seconds / 60) + ' min';
  return (seconds / 3600).toFixed(1) + ' h';
}

/** Throughput of a running job, measured over its last polls (up to 10 s), and its estimated end. */
export class Pace {
  constructor() {
    this.samples = [];
    this.el = h('div', { class: 'muted', 'data-testid': 'job-pace' });
  }

  update(job) {
    const s = job.deviceJobStatistics || {};
    const done = (s.succeededCount || 0) + (s.failedCount || 0);
    if (job.status !== 'running' || !s.deviceCount) {
      this.samples = [];
      show(this.el);
      return;
    }
    const now = Date.now();
    this.samples.push([now, done]);
    this.samples = this.samples.filter(([t]) => now - t <= 10_000);
    const [t0, d0] = this.samples[0];
    if (now - t0 < 1500) {
      show(this.el, 'measuring throughput\u2026');
      return;
    }
    const rate = (done - d0) * 1000 / (now - t0);
    const left = s.deviceCount - done;
    const end = rate > 0 ? new Date(now + left / rate * 1000) : null;
    show(this.el, `throughput ${rate.toFixed(1)} devices/s`,
      end ? ` \u00b7 estimated end ${end.toLocaleTimeString()} (in ${duration(left / rate)})` : ' \u00b7 no device finished lately');
  }
}

/** A button and a line: how many devices the condition selects, and how long the job takes at the tier's pace. */
export function estimate(conditionInput) {
  const line = h('span', { class: 'muted', 'data-testid': 'job-estimate' });
  const button = h('button', { type: 'button', 'data-testid': 'estimate', onclick: async () => {
    const cond = conditionInput.value.trim();
    try {
      const r = await query('SELECT COUNT() AS n FROM devices' + (cond === '*' || cond === '' ? '' : ' WHERE ' + cond), 1);
      const n = r.rows.length ? r.rows[0].n : 0;
      const t = await tierInfo();
      show(line, t.tier
        ? `${n.toLocaleString()} device(s): about ${duration(n / t.jobDeviceOperationsPerSecond)} at ${t.describe}'s pace `
          + `of ${t.jobDeviceOperationsPerSecond} device operations/s`
        : `${n.toLocaleString()} device(s); no tier: the hub runs them as fast as it can`);
    } catch (e) {
      show(line, 'cannot estimate: ' + e.message);
    }
  } }, 'Estimate duration');
  return h('p', {}, button, ' ', line);
}
