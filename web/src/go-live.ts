import type { GatewayInfo } from './api.ts';
import { publishFields } from './broadcast-fields.ts';
import { h } from './dom.ts';
import { publishHref } from './links.ts';

const DEFAULT_NAME = 'live/demo';

export interface GoLive {
  /** New gateway info: re-render the settings. */
  setInfo(info: GatewayInfo | null): void;
  /** The names live now: until the user types, the form offers one that is free. */
  setLive(names: readonly string[]): void;
}

/** `live/demo`, else `live/demo-2`, `live/demo-3`, ...: the first name nobody publishes. */
export function freeName(live: ReadonlySet<string>): string {
  if (!live.has(DEFAULT_NAME)) return DEFAULT_NAME;
  for (let n = 2; ; n++) if (!live.has(`${DEFAULT_NAME}-${n}`)) return `${DEFAULT_NAME}-${n}`;
}

/** "Go live": type a name, get the encoder settings for it. */
export function mountGoLive(panel: HTMLElement): GoLive {
  let info: GatewayInfo | null = null;
  let typed = false;
  const input = h('input', { class: 'name-input', type: 'text', value: DEFAULT_NAME, spellcheck: 'false', autocapitalize: 'off', 'aria-label': 'Broadcast name', 'data-testid': 'go-live-name' });
  const fields = h('div');
  const browserLink = h('a', { class: 'button' }, 'Publish from this browser');
  const render = () => {
    const name = normalizeName(input.value);
    fields.replaceChildren(publishFields(name, info));
    browserLink.href = publishHref(name);
  };
  input.addEventListener('input', () => {
    typed = true;
    render();
  });
  panel.replaceChildren(
    h('h2', {}, 'Go live'),
    h('label', { class: 'name-field' }, h('span', { class: 'copy-label' }, 'Broadcast name'), input),
    fields,
    h('p', { class: 'actions' }, browserLink),
  );
  render();
  return {
    setInfo(next) {
      info = next;
      render();
    },
    setLive(names) {
      const free = freeName(new Set(names));
      if (typed || input.value === free) return;
      input.value = free;
      render();
    },
  };
}

/** `demo` → `live/demo` (RTMP needs an app), and no stray slashes. */
function normalizeName(raw: string): string {
  const name = raw.trim().replace(/^\/+|\/+$/g, '');
  if (name === '') return DEFAULT_NAME;
  return name.includes('/') ? name : `live/${name}`;
}
