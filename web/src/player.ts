import '@moq/watch/element';
import '@moq/watch/ui';
import { moqUrl } from './links.ts';

export interface PlayerOptions {
  /** Broadcast path, e.g. `live/demo`. */
  name: string;
  muted?: boolean;
  /** Sent as ?jwt= on the MoQ connection (gateways with --auth-key). */
  token?: string;
}

/**
 * A <moq-watch> player with the stock controls overlay. It connects to this page's origin
 * (the gateway is the relay) and waits for the broadcast to be announced, so it starts
 * playing on its own when a publisher goes live and resumes after an encoder reconnects.
 */
export function createPlayer(opts: PlayerOptions): HTMLElement {
  trackFullscreen();
  const ui = document.createElement('moq-watch-ui');
  const watch = document.createElement('moq-watch');
  watch.setAttribute('url', moqUrl(opts.token));
  watch.setAttribute('name', opts.name);
  if (opts.muted) watch.setAttribute('muted', '');
  watch.append(document.createElement('canvas'));
  ui.append(watch);
  return ui;
}

let trackingFullscreen = false;

/**
 * The player goes fullscreen inside its shadow root, where page CSS cannot see it: mark the
 * document instead, so the page's canvas sizing rules step aside in fullscreen.
 */
function trackFullscreen(): void {
  if (trackingFullscreen) return;
  trackingFullscreen = true;
  const update = () => document.documentElement.classList.toggle('fullscreen', Boolean(document.fullscreenElement));
  document.addEventListener('fullscreenchange', update);
  document.addEventListener('webkitfullscreenchange', update);
}
