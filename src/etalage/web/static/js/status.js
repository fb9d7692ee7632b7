// A video's processing status: polls the video API until transcoding ends, then reloads the page.
import { api } from './api.js';

const box = document.getElementById('video-status');
const states = JSON.parse((document.getElementById('states') || { textContent: '{}' }).textContent);

async function poll() {
  try {
    const video = await api('GET', `/api/v1/videos/${box.dataset.video}`);
    const bar = document.getElementById('processing-bar');
    if (bar && video.progress != null) bar.value = video.progress;
    if (video.state !== box.dataset.state) {
      const badge = document.getElementById('state-badge');
      badge.textContent = states[video.state] || video.state;
      badge.dataset.state = video.state;
      location.reload();
      return;
    }
  } catch (e) { /* keep polling */ }
  setTimeout(poll, 1500);
}

if (box && box.dataset.state === 'processing') setTimeout(poll, 1000);
