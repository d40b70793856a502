/** `/`: live broadcasts (polled), a preview of the selected one, and how to publish. */
import { ApiError, fetchBroadcasts, fetchInfo, type BroadcastInfo, type GatewayInfo } from './api.ts';
import { playbackFields, publishFields } from './broadcast-fields.ts';
import { renderBroadcastList } from './broadcast-list.ts';
import { byId, h } from './dom.ts';
import { mountGoLive } from './go-live.ts';
import { publishHref, watchHref } from './links.ts';
import { createPlayer } from './player.ts';
import { pageToken, rememberToken } from './token.ts';

const POLL_MS = 2000;

const list = byId('broadcasts');
const empty = byId('empty');
const count = byId('count');
const status = byId('status');
const detail = byId('detail');
const goLive = mountGoLive(byId('go-live'));

let info: GatewayInfo | null = null;
let broadcasts: BroadcastInfo[] = [];
/** The previewed broadcast; kept in the URL hash so a reload shows the same one. */
let selected: string | null = decodeHash();
/** Picked by the user (click or URL) rather than by default: then it stays while offline. */
let explicit = selected !== null;
/** Which broadcast the detail panel was built for (the player must survive polls). */
let shownInDetail: string | null | undefined;
/** The detail panel's publish settings, refreshed alone when /api/info arrives. */
let publishSlot: HTMLElement | undefined;
let pollTimer: ReturnType<typeof setTimeout> | undefined;

function decodeHash(): string | null {
  try {
    return decodeURIComponent(location.hash.slice(1)) || null;
  } catch {
    return null;
  }
}

function select(path: string): void {
  selected = path;
  explicit = true;
  history.replaceState(null, '', `#${encodeURIComponent(path)}`);
  render();
}

function render(): void {
  // By default preview the first live broadcast, moving on when it ends.
  if (!explicit && broadcasts.length > 0 && !broadcasts.some((b) => b.path === selected)) selected = broadcasts[0]!.path;
  renderBroadcastList(list, broadcasts, selected, select);
  empty.hidden = broadcasts.length > 0;
  count.textContent = String(broadcasts.length);
  if (shownInDetail !== selected) renderDetail();
  const live = broadcasts.some((b) => b.path === selected);
  detail.querySelector('.live-state')?.replaceChildren(live ? 'live' : 'offline');
  detail.classList.toggle('offline', !live);
}

/** Built once per selection: rebuilding would restart the player. */
function renderDetail(): void {
  shownInDetail = selected;
  publishSlot = undefined;
  if (selected === null) {
    detail.replaceChildren(h('div', { class: 'placeholder' }, h('p', {}, 'Nothing is live yet.'), h('p', { class: 'hint' }, 'Publish with the settings under “Go live” and it appears here.')));
    return;
  }
  detail.replaceChildren(
    h('h2', { class: 'detail-title' }, h('span', { class: 'detail-name' }, selected), h('span', { class: 'live-state badge' })),
    h('div', { class: 'preview' }, createPlayer({ name: selected, muted: true, token: pageToken() })),
    h(
      'p',
      { class: 'actions' },
      h('a', { class: 'button primary', href: watchHref(selected) }, 'Watch full page'),
      h('a', { class: 'button', href: publishHref(selected) }, 'Publish from browser'),
    ),
    h('h3', {}, 'Play'),
    playbackFields(selected),
    h('h3', {}, 'Publish (OBS, ffmpeg)'),
    (publishSlot = h('div', {}, publishFields(selected, info))),
  );
}

/**
 * With --auth-key the API answers 401/403: ask for an operator token (one that may publish and
 * watch everything), kept for this tab only, then reload what depends on it.
 */
function showTokenForm(status: 401 | 403 | undefined): void {
  const slot = byId('token-form');
  slot.hidden = status === undefined;
  if (status === undefined) return;
  if (slot.dataset.status === String(status)) return; // keep what the user is typing
  slot.dataset.status = String(status);
  const input = h('input', { class: 'name-input', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Operator token', 'data-testid': 'token-input' });
  const form = h(
    'form',
    { class: 'token-form' },
    h(
      'p',
      {},
      status === 401
        ? 'This gateway requires a token (it runs with --auth-key). Enter an operator token, one for every path: '
        : 'That token may not use the dashboard: it needs every path. Mint one with: ',
      h('code', {}, "npx moq-gateway token --key <key> --put '' --get '' --expires 1d"),
    ),
    h('label', { class: 'name-field' }, h('span', { class: 'copy-label' }, 'Operator token'), input),
    h('p', { class: 'actions' }, h('button', { class: 'button primary', type: 'submit', 'data-testid': 'token-submit' }, 'Use token')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    rememberToken(input.value.trim() || undefined);
    slot.dataset.status = '';
    shownInDetail = undefined; // rebuild the preview and settings with the token
    void loadInfo();
    void poll();
  });
  slot.replaceChildren(form);
}

function setStatus(text: string, ok: boolean): void {
  status.textContent = text;
  status.classList.toggle('error', !ok);
}

let polling = false;

async function poll(): Promise<void> {
  if (polling) return; // one request at a time, one timer
  polling = true;
  clearTimeout(pollTimer);
  if (!document.hidden) {
    try {
      broadcasts = (await fetchBroadcasts()).sort((a, b) => a.path.localeCompare(b.path));
      goLive.setLive(broadcasts.map((b) => b.path));
      setStatus('connected', true);
      showTokenForm(undefined);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        setStatus(error.status === 401 ? 'token needed' : 'token not allowed', false);
        showTokenForm(error.status);
      } else {
        setStatus(error instanceof ApiError && error.status === 404 ? 'API not available' : 'gateway unreachable', false);
      }
    }
    render();
  }
  polling = false;
  pollTimer = setTimeout(() => void poll(), POLL_MS);
}

async function loadInfo(): Promise<void> {
  try {
    info = await fetchInfo();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return; // after the token form

    // Without /api/info the RTMP settings cannot be shown; retry with the next poll round.
    setTimeout(() => void loadInfo(), POLL_MS * 5);
    return;
  }
  byId('version').textContent = info.version ? `v${info.version}` : '';
  goLive.setInfo(info);
  if (publishSlot && selected !== null) publishSlot.replaceChildren(publishFields(selected, info));
}

// A hidden tab stops polling; coming back refreshes at once.
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void poll();
});
window.addEventListener('hashchange', () => {
  selected = decodeHash();
  explicit = selected !== null;
  render();
});

render();
void loadInfo();
void poll();
