/** `/watch/<broadcast>`: one broadcast, full page. */
import { byId, h } from './dom.ts';
import { broadcastFromLocation } from './links.ts';
import { createPlayer } from './player.ts';

const name = broadcastFromLocation('/watch/');
const stage = byId('player');
if (name === '') {
  stage.append(h('p', { class: 'empty' }, 'No broadcast named. ', h('a', { href: '/' }, 'Pick one on the dashboard.')));
} else {
  document.title = `${name} · moq-gateway`;
  byId('broadcast-name').textContent = name;
  stage.append(createPlayer({ name }));
}
