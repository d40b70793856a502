import type { BroadcastInfo } from './api.ts';
import { formatUptime, h } from './dom.ts';

/** The list of live broadcasts; clicking one selects it. Rebuilt on every poll (it is small). */
export function renderBroadcastList(list: HTMLElement, broadcasts: BroadcastInfo[], selected: string | null, onSelect: (path: string) => void): void {
  const now = Date.now();
  list.replaceChildren(
    ...broadcasts.map((b) => {
      const button = h(
        'button',
        { class: 'card', type: 'button', 'data-path': b.path, 'aria-current': b.path === selected ? 'true' : 'false' },
        h('span', { class: 'card-title' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), b.path),
        h(
          'span',
          { class: 'card-meta' },
          b.publisher ? h('span', { class: 'badge' }, b.publisher.protocol.toUpperCase()) : null,
          b.publisher?.connected === false ? h('span', { class: 'reconnecting' }, 'reconnecting…') : null,
          h('span', { title: 'viewers' }, `${b.viewers} ${b.viewers === 1 ? 'viewer' : 'viewers'}`),
          h('span', { title: 'live for' }, formatUptime(b.startedAt, now)),
        ),
        b.tracks.length > 0 ? h('span', { class: 'card-tracks' }, describeTracks(b)) : null,
      );
      button.addEventListener('click', () => onSelect(b.path));
      return h('li', {}, button);
    }),
  );
}

/** `video avc1.64001f 1.2 Mb/s · audio mp4a.40.2 96 kb/s`: media tracks only. */
export function describeTracks(b: BroadcastInfo): string {
  return b.tracks
    .filter((t) => t.kind === 'video' || t.kind === 'audio')
    .map((t) => [t.kind, t.codec, t.bitrate ? formatBitrate(t.bitrate) : ''].filter(Boolean).join(' '))
    .join(' · ');
}

function formatBitrate(bitsPerSecond: number): string {
  if (bitsPerSecond >= 1e6) return `${(bitsPerSecond / 1e6).toFixed(1)} Mb/s`;
  return `${Math.round(bitsPerSecond / 1e3)} kb/s`;
}
