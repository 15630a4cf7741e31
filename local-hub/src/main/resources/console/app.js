// The console's pages, chosen by the URL's hash: #/devices, #/device/<id>, #/jobs, #/job/<id>, #/telemetry[/<id>].
import { devicesPage } from './devices.js';
import { devicePage } from './device.js';
import { jobsPage } from './jobs.js';
import { jobPage } from './job.js';
import { showTier } from './tier.js';
import { telemetryPage } from './telemetry.js';

const pages = { devices: devicesPage, device: devicePage, jobs: jobsPage, job: jobPage, telemetry: telemetryPage };
let current = null;

function route() {
  if (current) current.stop();
  const hash = location.hash || '#/devices';
  const match = /^#\/([a-z]+)(?:\/(.*))?$/.exec(hash);
  const name = match && pages[match[1]] ? match[1] : 'devices';
  const arg = match && match[2] ? decodeURIComponent(match[2]) : null;
  for (const a of document.querySelectorAll('header nav a')) {
    a.classList.toggle('current', a.dataset.nav === (name.startsWith('job') ? 'jobs' : name === 'telemetry' ? 'telemetry' : 'devices'));
  }
  const view = document.getElementById('view');
  view.replaceChildren();
  current = pages[name](view, arg);
}

window.addEventListener('hashchange', route);
showTier(document.getElementById('tier'));
route();
