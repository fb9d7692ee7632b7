// Uploading a video with a progress bar: the resumable upload API (declare the size, then PATCH parts at
// Upload-Offset; after a dropped connection ask where to resume), then create the video and go to its page.
import { api, csrfToken, messages } from './api.js';
import './tagger.js';

const t = messages();
const form = document.getElementById('upload-form');
const PART = 8 * 1024 * 1024;

function sendPart(url, blob, offset, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PATCH', url);
    xhr.setRequestHeader('Content-Type', 'application/offset+octet-stream');
    xhr.setRequestHeader('Upload-Offset', String(offset));
    xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.upload.onprogress = (event) => onProgress(offset + event.loaded);
    xhr.onload = () => (xhr.status === 204 ? resolve(Number(xhr.getResponseHeader('Upload-Offset')))
      : reject(Object.assign(new Error(xhr.statusText), { status: xhr.status })));
    xhr.onerror = () => reject(new Error('network'));
    xhr.send(blob);
  });
}

async function resumeOffset(url) {
  const resp = await fetch(url, { method: 'HEAD', credentials: 'same-origin' });
  return Number(resp.headers.get('Upload-Offset') || 0);
}

function words(value) { return value.split(/[\s,]+/).map((w) => w.trim()).filter(Boolean); }

if (form) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = form.file.files[0];
    if (!file) return;
    const panel = document.getElementById('upload-progress');
    const bar = document.getElementById('upload-bar');
    const status = document.getElementById('upload-status');
    const show = (sent) => {
      const pct = Math.floor((sent / file.size) * 100);
      bar.value = pct;
      status.textContent = (t.percent || '{n}%').replace('{n}', pct);
    };
    panel.hidden = false;
    form.querySelector('button[type=submit]').disabled = true;
    try {
      const upload = await api('POST', '/api/v1/uploads', { size: file.size, filename: file.name, content_type: file.type || null });
      let offset = upload.offset;
      let failures = 0;
      while (offset < file.size) {
        try {
          offset = await sendPart(upload.upload_url, file.slice(offset, offset + PART), offset, show);
          failures = 0;
        } catch (err) {
          if (err.status && err.status < 500 && err.status !== 409) throw err;
          failures += 1;
          if (failures > 5) throw err;
          status.textContent = t.retrying;
          await new Promise((resolve) => setTimeout(resolve, 1000 * failures));
          offset = await resumeOffset(upload.upload_url);
        }
      }
      show(file.size);
      status.textContent = t.uploaded;
      const meta = {
        upload_id: upload.id,
        caption: form.caption.value,
        hashtags: words(form.hashtags.value).map((h) => h.replace(/^#/, '')),
        language: form.language.value,
        products: words(form.products.value).map((id) => ({ product_id: id })),
        publish: form.publish.checked,
      };
      if (form.merchant_id && form.merchant_id.value) meta.merchant_id = form.merchant_id.value;
      const video = await api('POST', '/api/v1/videos', meta);
      location.assign(`/studio/videos/${video.id}`);
    } catch (err) {
      status.textContent = `${t.failed} ${(err.problem && err.problem.detail) || ''}`;
      form.querySelector('button[type=submit]').disabled = false;
    }
  });
}
