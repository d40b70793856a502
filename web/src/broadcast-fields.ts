import type { GatewayInfo } from './api.ts';
import { copyField } from './copy-field.ts';
import { h } from './dom.ts';
import { hlsUrl, legacyHlsUrl, moqUrl, obsSettings } from './links.ts';
import { pageToken } from './token.ts';

/** Shown under settings that carry the dashboard's (operator) token. */
const TOKEN_NOTE = 'These carry your dashboard token, which may do everything: give encoders and viewers narrower ones (npx moq-gateway token --put <name> or --get <name>).';

/** Where to send an encoder for `path`: OBS server + stream key, and one URL for ffmpeg. */
export function publishFields(path: string, info: GatewayInfo | null): HTMLElement {
  const box = h('div', { class: 'fields' });
  if (!info) {
    box.append(h('p', { class: 'hint' }, 'Loading RTMP settings…'));
    return box;
  }
  if (info.rtmpPort === null) {
    box.append(h('p', { class: 'hint' }, 'RTMP ingest is disabled on this gateway.'));
    return box;
  }
  const token = pageToken();
  const obs = obsSettings(path, info.rtmpPort, token);
  if (!obs) {
    box.append(h('p', { class: 'hint' }, 'RTMP names have two parts, like live/demo.'));
    return box;
  }
  box.append(
    copyField('OBS Server', obs.server, { testId: 'obs-server' }),
    copyField('OBS Stream key', obs.streamKey, { testId: 'obs-key' }),
    copyField('ffmpeg', ffmpegCommand(obs.url), { testId: 'ffmpeg' }),
  );
  if (token) box.append(h('p', { class: 'hint' }, TOKEN_NOTE));
  return box;
}

/** How players reach `path`: MoQ (relay URL + broadcast name) and HLS. */
export function playbackFields(path: string): HTMLElement {
  const token = pageToken();
  const box = h(
    'div',
    { class: 'fields' },
    copyField('MoQ URL', moqUrl(token), { testId: 'moq-url' }),
    copyField('MoQ broadcast', path, { testId: 'moq-name' }),
    copyField('HLS URL', hlsUrl(path, token), { testId: 'hls-url' }),
    copyField('HLS for legacy players (MPEG-TS)', legacyHlsUrl(path, token), { testId: 'legacy-hls-url' }),
  );
  if (token) box.append(h('p', { class: 'hint' }, TOKEN_NOTE));
  return box;
}

function ffmpegCommand(rtmpUrl: string): string {
  return (
    'ffmpeg -re -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine ' +
    `-c:v libx264 -preset veryfast -tune zerolatency -g 60 -c:a aac -f flv ${rtmpUrl}`
  );
}
