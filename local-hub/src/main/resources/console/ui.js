// Small DOM helpers: every text goes in as a text node (no innerHTML anywhere), so hub data cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) {
      el.addEventListener(k.substring(2), v);
    } else if (k === 'class') {
      el.className = v;
    } else if (k === 'value') {
      el.value = v;
    } else {
      el.setAttribute(k, v === true ? '' : v);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * An ISO time from the hub as local "YYYY-MM-DD HH:MM:SS UTC+hh:mm" ("UTC" when local time is UTC; "" for IoT
 * Hub's "never", 0001-01-01). The hub's own text (UTC) is the element's tooltip where it is shown.
 */
export function time(text) {
  if (!text || text.startsWith('0001-01-01')) return '';
  const d = new Date(text);
  if (isNaN(d)) return text;
  const pad = n => String(n).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const zone = offset === 0 ? 'UTC'
    : `UTC${offset > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
}

/** "1 device", "2 devices". */
export function plural(n, word) {
  return `${Number(n).toLocaleString()} ${word}${n === 1 ? '' : 's'}`;
}

/** A twin section without its $metadata (the version is shown beside it). */
export function withoutMetadata(section) {
  const { $metadata, $version, ...rest } = section || {};
  return rest;
}

export function json(value) {
  return JSON.stringify(value, null, 2);
}

export function compact(value, max = 80) {
  if (value === undefined || value === null) return '';
  const s = JSON.stringify(value);
  return s.length > max ? s.substring(0, max - 1) + '\u2026' : s;
}

export function badge(text) {
  return h('span', { class: 'badge ' + text }, text);
}

/** Shows an error (and, for a query error with a position, the query with a caret under that character). */
export function errorBox(error, queryText) {
  const box = h('div', { class: 'error', 'data-testid': 'error' }, error.message);
  const pos = error.position;
  if (queryText && pos) {
    const line = queryText.replace(/\n/g, ' ');
    box.append(h('pre', { class: 'mono', 'data-testid': 'error-position' },
      line + '\n' + ' '.repeat(Math.max(0, pos - 1)), h('span', { class: 'caret' }, '^'), ' position ' + pos));
  }
  return box;
}

/**
 * Progress of a job from its deviceJobStatistics: a bar of succeeded / failed / running / pending and
 * "n %" of the devices finished.
 */
export function progress(stats, big = false) {
  const s = stats || {};
  const total = s.deviceCount || 0;
  const done = (s.succeededCount || 0) + (s.failedCount || 0);
  const pct = total === 0 ? 0 : Math.floor(done * 100 / total);
  const bar = h('div', { class: 'progress' + (big ? ' big' : ''), 'data-testid': 'progress-bar',
    title: `${s.succeededCount || 0} succeeded, ${s.failedCount || 0} failed, ${s.runningCount || 0} running, ${s.pendingCount || 0} pending of ${total}` });
  for (const part of ['succeeded', 'failed', 'running', 'pending']) {
    const n = s[part + 'Count'] || 0;
    if (total > 0 && n > 0) {
      const span = h('span', { class: part });
      span.style.width = (n * 100 / total) + '%';
      bar.append(span);
    }
  }
  const failed = s.failedCount || 0;
  const text = h('span', { class: 'progress-text', 'data-testid': 'progress-text' },
    total === 0 ? 'no devices yet' : `${pct} % (${done.toLocaleString()} of ${total.toLocaleString()})`,
    // IoT Hub calls a job "completed" even when every device failed: the failures must not read as success.
    failed > 0 ? h('span', { class: 'failed-text', 'data-testid': 'progress-failed' }, ` \u00b7 ${plural(failed, 'device')} failed`) : null);
  const counts = big ? h('span', { class: 'progress-text', 'data-testid': 'progress-counts' },
    ` \u00b7 ${(s.succeededCount || 0).toLocaleString()} succeeded \u00b7 ${(s.failedCount || 0).toLocaleString()} failed`
    + ` \u00b7 ${(s.runningCount || 0).toLocaleString()} running \u00b7 ${(s.pendingCount || 0).toLocaleString()} pending`) : null;
  return h('div', {}, bar, text, counts);
}

/**
 * Runs fn now and again after every period (longer when fn is slow: three times its duration), until stop().
 * Nothing is fetched while the tab is hidden. The header's "live" dot turns red while the hub does not answer.
 */
export class Live {
  constructor() {
    this.stopped = false;
    this.timers = [];
  }

  every(periodMs, fn) {
    const loop = async () => {
      if (this.stopped) return;
      const started = performance.now();
      if (!document.hidden) {
        try {
          await fn();
          setStale(false);
        } catch (e) {
          // Red only while the hub does not answer (no answer, or the console's 502 for it); a refusal such as
          // 404 for an unknown device is an answer, shown by the page itself.
          setStale(e.status === undefined || e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504);
          console.warn(e);
        }
      }
      if (this.stopped) return;
      const took = performance.now() - started;
      this.timers.push(setTimeout(loop, Math.max(periodMs, 3 * took)));
    };
    loop();
  }

  stop() {
    this.stopped = true;
    this.timers.forEach(clearTimeout);
  }
}

function setStale(stale) {
  const live = document.getElementById('live');
  if (live) {
    live.classList.toggle('stale', stale);
    live.dataset.refreshes = String(Number(live.dataset.refreshes || 0) + 1); // for the browser tests
  }
}

/** Replaces the children of el. */
export function show(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Forward paging over continuation tokens; back is a stack of the tokens that led to each page. */
export class Pager {
  constructor(onChange) {
    this.tokens = [null];
    this.next = null;
    this.prevButton = h('button', { 'data-testid': 'prev', disabled: true, onclick: () => {
      if (this.tokens.length > 1) { this.tokens.pop(); onChange(); }
    } }, '\u2190 Previous');
    this.label = h('span', { class: 'muted', 'data-testid': 'page' }, 'page 1');
    this.nextButton = h('button', { 'data-testid': 'next', disabled: true, onclick: () => {
      if (this.next) { this.tokens.push(this.next); this.next = null; onChange(); }
    } }, 'Next \u2192');
    this.el = h('div', { class: 'pager' }, this.prevButton, this.label, this.nextButton);
  }

  get token() {
    return this.tokens[this.tokens.length - 1];
  }

  reset() {
    this.tokens = [null];
    this.next = null;
  }

  update(nextToken) {
    this.next = nextToken || null;
    this.prevButton.disabled = this.tokens.length === 1;
    this.nextButton.disabled = !this.next;
    this.label.textContent = 'page ' + this.tokens.length;
  }
}

/** Re-renders el only when the data changed (keeps selections and the elements a user is clicking). */
export function showIfChanged(el, data, render) {
  const signature = JSON.stringify(data);
  if (el.dataset.signature === signature) return;
  el.dataset.signature = signature;
  show(el, render(data));
}
