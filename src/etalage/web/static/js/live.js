// A live room: the stream, chat and likes over the room's WebSocket, the pinned product, buying in a sheet.
import { announce, messages } from './api.js';
import { onLeave, track } from './events.js';
import { openProduct } from './sheet.js';

const t = messages();
const room = document.getElementById('room');
const chat = document.getElementById('chat');
const video = document.getElementById('room-video');
const roomId = room ? room.dataset.room : null;
let socket = null;
let lastId = null;
let retry = 0;
let viewStart = performance.now();

function line(message) {
  const li = document.createElement('li');
  if (message.type === 'chat') {
    const who = document.createElement('b');
    who.textContent = message.author || '';
    li.append(who, document.createTextNode(message.text));
  } else {
    li.className = 'system';
    li.textContent = message.text;
  }
  li.dataset.id = message.id;
  chat.append(li);
  while (chat.children.length > 100) chat.firstElementChild.remove();
  chat.scrollTop = chat.scrollHeight;
  if (message.id) lastId = message.id;
}

function pin(product) {
  const box = document.getElementById('pinned');
  const chip = document.getElementById('pinned-chip');
  if (!product || !product.product_id) { box.hidden = true; return; }
  chip.dataset.product = product.product_id;
  const title = chip.querySelector('span');
  if (title && product.title) title.textContent = product.title;
  box.hidden = false;
}

function onMessage(event) {
  let m;
  try { m = JSON.parse(event.data); } catch (e) { return; }
  if (m.type === 'hello') {
    if (!lastId) chat.replaceChildren();
    (m.history || []).forEach(line);
    pin(m.pinned_product);
    document.getElementById('likes').textContent = m.room.like_count;
    document.getElementById('chat-form').hidden = !(m.you && m.you.can_chat);
  } else if (m.type === 'chat' || m.type === 'system' || m.type === 'purchase') {
    if (m.text) line(m);
  } else if (m.type === 'likes') {
    document.getElementById('likes').textContent = m.total;
  } else if (m.type === 'viewer_count') {
    document.getElementById('viewers').textContent = (t.viewers || '{n}').replace('{n}', m.count);
  } else if (m.type === 'pinned_product') {
    pin(m);
  } else if (m.type === 'message_removed') {
    const gone = chat.querySelector(`[data-id="${CSS.escape(m.id)}"]`);
    if (gone) gone.remove();
  } else if (m.type === 'muted') {
    announce(t.muted);
  } else if (m.type === 'room_state' && m.state === 'ended') {
    room.dataset.state = 'ended';
    announce(t.ended);
    line({ type: 'system', text: t.ended });
  } else if (m.type === 'error' && m.detail) {
    announce(m.detail);
  }
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const since = lastId ? `?since=${encodeURIComponent(lastId)}` : '';
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/live/rooms/${roomId}/ws${since}`);
  socket.addEventListener('open', () => { retry = 0; });
  socket.addEventListener('message', onMessage);
  socket.addEventListener('close', (event) => {
    if (room.dataset.state === 'ended' || [4401, 4404].includes(event.code)) return;
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 500 * 2 ** retry);  // back off, then pick up what was missed (?since=)
  });
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

if (room) {
  connect();
  let viewing = true;
  track('view_start', { live_room_id: roomId, surface: 'live' });
  onLeave(() => {  // hidden or left: the view ends; back again: a new one starts
    if (!viewing) return;
    viewing = false;
    track('view_end', { live_room_id: roomId, surface: 'live', dwell_ms: Math.round(performance.now() - viewStart) });
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible' || viewing) return;
    viewing = true;
    viewStart = performance.now();
    track('view_start', { live_room_id: roomId, surface: 'live' });
  });
  if (video) video.play().catch(() => {});
  document.getElementById('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = document.getElementById('chat-text');
    const text = input.value.trim();
    if (!text) return;
    send({ type: 'chat', text });
    input.value = '';
  });
  document.getElementById('room-like').addEventListener('click', () => {
    send({ type: 'like', count: 1 });
    track('like', { live_room_id: roomId, surface: 'live' });
  });
  document.getElementById('pinned-chip').addEventListener('click', (event) => {
    const productId = event.currentTarget.dataset.product;
    track('product_click', { product_id: productId, live_room_id: roomId, surface: 'live' });
    openProduct(productId, { live_room_id: roomId });
  });
  const mute = document.getElementById('room-mute');
  mute.addEventListener('click', () => {
    video.muted = !video.muted;
    mute.setAttribute('aria-pressed', String(!video.muted));
    mute.setAttribute('aria-label', video.muted ? t.unmute : t.mute);
  });
}
