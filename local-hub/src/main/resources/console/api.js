// The console's only door to the hub: /api/<path> is <path> of the hub's REST API, called by the console
// server with its own SAS token. The X-Console-Request header marks the call as coming from these pages
// (the server refuses /api calls without it, which keeps other sites from making them).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** The 1-based position a query error names ("... at position 17: ..."), or null. */
  get position() {
    const m = /at position (\d+)/.exec(this.message);
    return m ? Number(m[1]) : null;
  }
}

export async function api(method, path, { body, headers = {} } = {}) {
  const all = { 'X-Console-Request': '1', 'Accept': 'application/json', ...headers };
  if (body !== undefined) {
    all['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch('/api' + path, {
      method, headers: all, cache: 'no-store', credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, null, 'The console server did not answer (is the hub still running?)');
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (e) {
    json = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, response.headers.get('iothub-errorcode'), errorMessage(json, text, response.status));
  }
  return { json, etag: response.headers.get('ETag'), continuation: response.headers.get('x-ms-continuation') };
}

// IoT Hub's error body is {"Message": "<JSON text with errorCode and message>", "ExceptionMessage": ""}.
function errorMessage(json, text, status) {
  if (json && typeof json.Message === 'string') {
    try {
      const inner = JSON.parse(json.Message);
      return inner.message || json.Message;
    } catch (e) {
      return json.Message;
    }
  }
  if (json && json.message) {
    return json.message;
  }
  return text || ('HTTP ' + status);
}

/** One page of a hub query: {rows, continuation}. */
export async function query(text, pageSize, continuation) {
  const headers = { 'x-ms-max-item-count': String(pageSize) };
  if (continuation) {
    headers['x-ms-continuation'] = continuation;
  }
  const r = await api('POST', '/devices/query', { body: { query: text }, headers });
  return { rows: r.json || [], continuation: r.continuation };
}

export const seg = encodeURIComponent;

/** A string literal of the hub's query language. */
export function quote(text) {
  return "'" + String(text).replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

/**
 * Job records (devices.jobs) are queried by scanning every record of every job: cheap for the tutorial, seconds
 * for a job over a million twins. Pages refresh them by themselves only while all jobs together hold at most
 * this many records (the jobs list, which says so, is cheap); otherwise they offer a Refresh button.
 */
export const LIVE_RECORDS_LIMIT = 100000;

export async function totalJobRecords() {
  const r = await api('GET', '/jobs/v2/query', { headers: { 'x-ms-max-item-count': '100' } });
  return (r.json || []).reduce((n, j) => n + (j.deviceJobStatistics?.deviceCount || 0), 0)
    + (r.continuation ? Infinity : 0);
}

/** Counting connected devices scans every twin: automatic up to this many devices, on request above. */
export const LIVE_COUNT_LIMIT = 100000;
