/** `/watch/<broadcast>`: one broadcast, full page. */
import { byId, h } from './dom.ts';
import { broadcastFromLocation } from './links.ts';
import { createPlayer } from './player.ts';
import { soundButton } from './sound-button.ts';
import { checkAccess, pageToken, watchProblem } from './token.ts';

const name = broadcastFromLocation('/watch/');
const stage = byId('player');
const LIVE_POLL_MS = 2000;

async function start(): Promise<void> {
  if (name === '') {
    stage.append(h('p', { class: 'empty' }, 'No broadcast named. ', h('a', { href: '/' }, 'Pick one on the dashboard.')));
    return;
  }
  document.title = `${name} · moq-gateway`;
  byId('broadcast-name').textContent = name;
  const token = pageToken();
  // Ask first: a refused MoQ connection only retries, it cannot say why it was refused.
  const access = await checkAccess(name, token).catch(() => undefined);
  const problem = access && watchProblem(access, name, token);
  if (problem) {
    stage.append(h('p', { class: 'empty auth-problem', 'data-testid': 'auth-problem' }, problem));
    return;
  }
  // The player waits for the broadcast by itself; the page says so meanwhile.
  const waiting = h('p', { class: 'waiting', 'data-testid': 'waiting' }, `Waiting for ${name} to start… `, h('a', { href: '/' }, 'Back to the dashboard'));
  waiting.hidden = access?.live !== false;
  const sound = soundButton(); // before the player, so it sees the player's AudioContext
  stage.append(createPlayer({ name, token }), waiting, sound);
  const poll = async (): Promise<void> => {
    const now = await checkAccess(name, token).catch(() => undefined);
    if (now) waiting.hidden = now.live !== false;
    setTimeout(() => void poll(), LIVE_POLL_MS);
  };
  setTimeout(() => void poll(), LIVE_POLL_MS);
}

void start();
