import type { GatewayInfo } from './api.ts';
import { publishFields } from './broadcast-fields.ts';
import { h } from './dom.ts';
import { publishHref } from './links.ts';

const DEFAULT_NAME = 'live/demo';

/** "Go live": type a name, get the encoder settings for it. Returns a re-render for new info. */
export function mountGoLive(panel: HTMLElement): (info: GatewayInfo | null) => void {
  let info: GatewayInfo | null = null;
  const input = h('input', { class: 'name-input', type: 'text', value: DEFAULT_NAME, spellcheck: 'false', autocapitalize: 'off', 'aria-label': 'Broadcast name' });
  const fields = h('div');
  const browserLink = h('a', { class: 'button' }, 'Publish from this browser');
  const render = () => {
    const name = normalizeName(input.value);
    fields.replaceChildren(publishFields(name, info));
    browserLink.href = publishHref(name);
  };
  input.addEventListener('input', render);
  panel.replaceChildren(
    h('h2', {}, 'Go live'),
    h('label', { class: 'name-field' }, h('span', { class: 'copy-label' }, 'Broadcast name'), input),
    fields,
    h('p', { class: 'actions' }, browserLink),
  );
  render();
  return (next) => {
    info = next;
    render();
  };
}

/** `demo` → `live/demo` (RTMP needs an app), and no stray slashes. */
function normalizeName(raw: string): string {
  const name = raw.trim().replace(/^\/+|\/+$/g, '');
  if (name === '') return DEFAULT_NAME;
  return name.includes('/') ? name : `live/${name}`;
}
