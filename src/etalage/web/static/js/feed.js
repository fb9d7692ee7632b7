// The vertical For You feed: muted autoplay of the clip on screen, the next one preloaded, swipe (native
// scroll snapping), arrow keys and wheel steps, more clips fetched as the end nears, and interaction events.
import { onLeave, track } from './events.js';
import { announce, messages } from './api.js';
import { openProduct, openWhy } from './sheet.js';

const feed = document.getElementById('feed');
const t = messages();
const reduced = matchMedia('(prefers-reduced-motion: reduce)').matches;
const surface = feed ? feed.dataset.surface : 'for_you';
let current = null;
let muted = true;
let loadingMore = false;
const stats = new WeakMap();

const clips = () => [...feed.querySelectorAll('.clip')];
const idOf = (clip) => clip.dataset.video || clip.dataset.room;
// what an event is about, where it was shown, and the served page it came from (the feed's session_id)
const media = (clip) => ({
  ...(clip.dataset.room ? { live_room_id: clip.dataset.room } : { video_id: clip.dataset.video }),
  surface, position: Number(clip.dataset.pos || 0),
  ...(clip.dataset.served ? { session_id: clip.dataset.served } : {}),
});

function pickSource(clip) {
  let sources = [];
  try { sources = JSON.parse(clip.dataset.sources || '[]'); } catch (e) { sources = []; }
  const want = Math.min(innerWidth * (devicePixelRatio || 1), 1080) * 0.9;
  const fit = sources.find((s) => s.width >= want) || sources[sources.length - 1];
  return fit ? fit.url : null;
}

function load(clip, preload) {
  const video = clip && clip.querySelector('video');
  if (!video) return;
  if (!video.getAttribute('src')) {
    const url = pickSource(clip);
    if (url) video.src = url;
  }
  if (video.preload !== 'auto') video.preload = preload;
}

function setPlayButton(clip, show) {
  const btn = clip.querySelector('.clip-play');
  if (btn) btn.hidden = !show;
}

function play(clip) {
  const video = clip.querySelector('video');
  video.muted = muted;
  const started = video.play();
  if (started) started.then(() => setPlayButton(clip, false)).catch(() => setPlayButton(clip, true));
}

function accumulate(clip) {
  const video = clip.querySelector('video');
  const s = stats.get(clip);
  if (!s || !video) return;
  let step = video.currentTime - s.last;
  if (step < 0 && video.duration) step += video.duration;  // looped round
  if (step > 0 && step < 2) s.played += step;
  s.last = video.currentTime;
}

function activate(clip) {
  if (clip === current) return;
  if (current) deactivate(current);
  current = clip;
  load(clip, 'auto');
  const video = clip.querySelector('video');
  stats.set(clip, { start: performance.now(), played: 0, last: video ? video.currentTime : 0 });
  track('view_start', media(clip));
  // with reduced motion asked for, nothing moves until the visitor presses play
  if (video && !reduced) play(clip);
  else if (video) setPlayButton(clip, true);
  const next = clip.nextElementSibling;
  if (next && next.classList.contains('clip')) {
    load(next, 'auto');
    const after = next.nextElementSibling;
    if (after && after.classList.contains('clip')) load(after, 'metadata');
  }
  if (clips().indexOf(clip) >= clips().length - 3) loadMore();
}

function deactivate(clip) {
  const video = clip.querySelector('video');
  const s = stats.get(clip);
  if (video) { accumulate(clip); video.pause(); }
  if (!s) return;
  const dwell = Math.round(performance.now() - s.start);
  const end = { ...media(clip), dwell_ms: dwell };
  if (video && video.duration) end.watch_ratio = Math.min(10, Math.round((s.played / video.duration) * 1000) / 1000);
  track('view_end', end);
  if (dwell < 1500) track('skip', { ...media(clip), dwell_ms: dwell });
  stats.delete(clip);
}

const seen = new WeakSet();
const observer = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const clip = entry.target;
    if (entry.intersectionRatio >= 0.5 && !seen.has(clip)) { seen.add(clip); track('impression', media(clip)); }
    if (entry.intersectionRatio >= 0.6) activate(clip);
  }
}, { root: feed, threshold: [0.5, 0.6] });

function wire(clip) {
  observer.observe(clip);
  const video = clip.querySelector('video');
  if (video) {
    video.addEventListener('timeupdate', () => { if (clip === current) accumulate(clip); });
    video.addEventListener('playing', () => {
      if (!performance.getEntriesByName('feed-first-play').length) performance.mark('feed-first-play');
    }, { once: true });
    video.addEventListener('click', () => (video.paused ? play(clip) : video.pause()));
  }
}

function go(step) {
  const list = clips();
  const index = current ? list.indexOf(current) : 0;
  const target = list[Math.max(0, Math.min(list.length - 1, index + step))];
  if (!target || target === current) return;
  target.scrollIntoView({ behavior: reduced ? 'auto' : 'smooth', block: 'start' });
  target.focus({ preventScroll: true });
}

async function loadMore() {
  const url = feed.dataset.more;
  if (!url || loadingMore) return;
  loadingMore = true;
  try {
    const resp = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    if (!resp.ok) return;
    const tpl = document.createElement('template');
    tpl.innerHTML = await resp.text();
    const next = tpl.content.querySelector('[data-more-url]');
    feed.dataset.more = next ? next.dataset.moreUrl : '';
    const end = feed.querySelector('.feed-end');
    for (const clip of tpl.content.querySelectorAll('.clip')) {
      if (feed.querySelector(`#${CSS.escape(clip.id)}`)) continue;
      clip.dataset.pos = String(clips().length);  // its slot in this feed, for the events
      feed.insertBefore(clip, end);
      wire(clip);
    }
  } finally {
    loadingMore = false;
  }
}

// scroll velocity: one event per gesture, in pixels per second
let gesture = null;
let settle = null;
function endGesture() {
  clearTimeout(settle);
  if (!gesture) return;
  const ms = performance.now() - gesture.t;
  const velocity = ms > 0 ? Math.round(((feed.scrollTop - gesture.top) / ms) * 1000) : 0;
  if (velocity) track('scroll', { velocity, surface, ...(current && current.dataset.video ? { video_id: current.dataset.video } : {}) });
  gesture = null;
}
function onScroll() {
  if (!gesture) gesture = { t: performance.now(), top: feed.scrollTop };
  clearTimeout(settle);
  settle = setTimeout(endGesture, 160);
}

// wheel and trackpad: one clip per gesture, however many wheel events it fires
let wheelLocked = false;
let lastWheel = 0;
let stepAt = 0;
function onWheel(event) {
  if (Math.abs(event.deltaY) < 2) return;
  event.preventDefault();
  lastWheel = performance.now();
  if (wheelLocked) return;
  wheelLocked = true;
  stepAt = lastWheel;
  go(event.deltaY > 0 ? 1 : -1);
  const release = () => {
    const now = performance.now();
    if (now - lastWheel > 180 && now - stepAt > 350) wheelLocked = false;
    else setTimeout(release, 60);
  };
  setTimeout(release, 60);
}

function onKey(event) {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
  if (document.querySelector('dialog[open]')) return;
  const tag = (event.target.tagName || '').toLowerCase();
  if (tag === 'input' || tag === 'textarea' || tag === 'select') return;
  const keys = { ArrowDown: 1, PageDown: 1, j: 1, ArrowUp: -1, PageUp: -1, k: -1 };
  if (event.key in keys) { event.preventDefault(); go(keys[event.key]); return; }
  if (event.key === 'm') toggleMute();
  if (event.key === ' ' && current && tag !== 'button' && tag !== 'a') {
    event.preventDefault();
    const video = current.querySelector('video');
    if (video) (video.paused ? play(current) : video.pause());
  }
}

function toggleMute() {
  muted = !muted;
  const btn = document.getElementById('mute');
  if (btn) {
    btn.setAttribute('aria-pressed', String(!muted));
    btn.setAttribute('aria-label', muted ? t.unmute : t.mute);
    btn.querySelector('use').setAttribute('href', btn.dataset[muted ? 'iconMuted' : 'iconSound']);
  }
  if (current) { const video = current.querySelector('video'); if (video) video.muted = muted; }
}

async function share(clip) {
  const path = clip.dataset.room ? `/live/${clip.dataset.room}` : `/v/${clip.dataset.video}`;
  const url = new URL(path, location.href).href;
  try {
    if (navigator.share) await navigator.share({ url, title: document.title });
    else { await navigator.clipboard.writeText(url); announce(t.copied); }
    track('share', { ...media(clip), channel: 'link' });
  } catch (e) { /* the visitor closed the share sheet */ }
}

function onClick(event) {
  const el = event.target.closest('button');
  if (!el || !feed.contains(el)) return;
  const clip = el.closest('.clip');
  if (el.classList.contains('chip')) {
    const where = clip.dataset.room ? { live_room_id: clip.dataset.room } : { video_id: clip.dataset.video };
    track('product_click', { product_id: el.dataset.product, ...where, surface });
    openProduct(el.dataset.product, where);
  } else if (el.classList.contains('like')) {
    const liked = el.getAttribute('aria-pressed') !== 'true';
    el.setAttribute('aria-pressed', String(liked));
    track('like', liked ? media(clip) : { ...media(clip), undo: true });
  } else if (el.classList.contains('share')) {
    share(clip);
  } else if (el.classList.contains('why')) {
    openWhy(clip, () => {  // fewer like this: the feed learns it, and the next clip comes up
      track('not_interested', media(clip));
      go(1);
    });
  } else if (el.classList.contains('clip-play')) {
    activate(clip);
    play(clip);
  }
}

if (feed) {
  clips().forEach(wire);
  feed.addEventListener('scroll', onScroll, { passive: true });
  feed.addEventListener('wheel', onWheel, { passive: false });
  feed.addEventListener('click', onClick);
  document.addEventListener('keydown', onKey);
  const mute = document.getElementById('mute');
  if (mute) mute.addEventListener('click', toggleMute);
  // hidden or left: the view ends (and its events go out); back again: a new view of the same clip
  let resume = null;
  onLeave(() => {
    endGesture();
    if (current) { resume = current; deactivate(current); current = null; }
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && resume) { const clip = resume; resume = null; activate(clip); }
  });
  const first = clips()[0];
  if (first) activate(first);
  feed.dataset.ready = '1';
  performance.mark('feed-ready');
}
