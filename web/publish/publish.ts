/**
 * `/publish/<broadcast>`: publish the camera or the screen over WHIP (RFC 9725) with a plain
 * RTCPeerConnection. The offer is sent once ICE gathering completes, so the server gets every
 * candidate in one POST; Stop (or leaving the page) DELETEs the session resource.
 */

type PublishState = 'idle' | 'connecting' | 'live' | 'error';
type VideoCodec = 'H264' | 'VP8' | 'VP9' | 'AV1';

interface Publication {
  pc: RTCPeerConnection;
  stream: MediaStream;
  /** The session URL from the 201's Location header. */
  resource: string | undefined;
}

/** Longest wait for host candidates; what was gathered by then is sent. */
const GATHER_TIMEOUT_MS = 3000;

function byId<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} missing from the page`);
  return element;
}

const form = byId('publish-form', HTMLFormElement);
const broadcastInput = byId('broadcast', HTMLInputElement);
const sourceSelect = byId('source', HTMLSelectElement);
const codecSelect = byId('codec', HTMLSelectElement);
const tokenInput = byId('token', HTMLInputElement);
const startButton = byId('start', HTMLButtonElement);
const stopButton = byId('stop', HTMLButtonElement);
const stateLabel = byId('state', HTMLSpanElement);
const preview = byId('preview', HTMLVideoElement);

let current: Publication | undefined;

function showState(state: PublishState, detail = ''): void {
  stateLabel.dataset.state = state;
  stateLabel.textContent = detail ? `${state}: ${detail}` : state;
  const busy = state === 'connecting' || state === 'live';
  startButton.disabled = busy;
  stopButton.disabled = !busy;
  for (const input of [broadcastInput, sourceSelect, codecSelect, tokenInput]) input.disabled = busy;
}

/** The broadcast named by the page path, `/publish/live/demo` → `live/demo`. */
function broadcastFromPath(): string {
  const prefix = '/publish/';
  const rest = location.pathname.startsWith(prefix) ? location.pathname.slice(prefix.length) : '';
  return rest
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })
    .join('/');
}

/** `?whip=<endpoint base>` points the page at another gateway; the default is this origin's `/whip/`. */
function endpointFor(broadcast: string): URL {
  const base = new URL(new URLSearchParams(location.search).get('whip') ?? '/whip/', location.href);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return new URL(broadcast.split('/').filter((s) => s !== '').map(encodeURIComponent).join('/'), base);
}

async function capture(source: string): Promise<MediaStream> {
  if (source === 'screen') return navigator.mediaDevices.getDisplayMedia({ video: true, audio: true });
  return navigator.mediaDevices.getUserMedia({ video: true, audio: true });
}

/**
 * Offer only the chosen video codec (plus its retransmission and FEC helpers), so the server
 * cannot pick another; H.264 packetization-mode 1 first. Returns false when the browser lacks it.
 */
function preferCodec(transceiver: RTCRtpTransceiver, codec: VideoCodec): boolean {
  if (typeof transceiver.setCodecPreferences !== 'function') return false;
  const capabilities = RTCRtpReceiver.getCapabilities('video')?.codecs ?? [];
  const wanted = capabilities.filter((c) => c.mimeType.toLowerCase() === `video/${codec.toLowerCase()}`);
  if (wanted.length === 0) return false;
  const mode = (c: RTCRtpCodec): number => (/packetization-mode=1/.test(c.sdpFmtpLine ?? '') ? 0 : 1);
  wanted.sort((a, b) => mode(a) - mode(b));
  const helpers = capabilities.filter((c) => /\/(rtx|red|ulpfec)$/i.test(c.mimeType));
  transceiver.setCodecPreferences([...wanted, ...helpers]);
  return true;
}

function gatheringComplete(pc: RTCPeerConnection): Promise<void> {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

async function start(): Promise<void> {
  const broadcast = broadcastInput.value.trim();
  if (broadcast === '') return showState('error', 'name the broadcast');
  showState('connecting', 'capturing');
  const stream = await capture(sourceSelect.value);
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const publication: Publication = { pc, stream, resource: undefined };
  current = publication;
  preview.srcObject = stream;

  const codec = codecSelect.value as VideoCodec;
  let codecNote = '';
  for (const track of stream.getTracks()) {
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    if (track.kind === 'video' && !preferCodec(transceiver, codec)) codecNote = ` (this browser cannot send ${codec})`;
  }
  pc.addEventListener('connectionstatechange', () => {
    if (current !== publication) return;
    if (pc.connectionState === 'connected') showState('live', `publishing ${broadcast}${codecNote}`);
    else if (pc.connectionState === 'disconnected') showState('connecting', 'connection interrupted');
    else if (pc.connectionState === 'failed') void stop('error', 'connection failed');
  });
  for (const track of stream.getTracks()) track.addEventListener('ended', () => void stop('idle', 'capture ended'));

  await pc.setLocalDescription(await pc.createOffer());
  showState('connecting', 'gathering candidates');
  await gatheringComplete(pc);

  showState('connecting', 'sending offer');
  const endpoint = endpointFor(broadcast);
  const headers: Record<string, string> = { 'content-type': 'application/sdp' };
  if (tokenInput.value.trim() !== '') headers.authorization = `Bearer ${tokenInput.value.trim()}`;
  const response = await fetch(endpoint, { method: 'POST', headers, body: pc.localDescription?.sdp ?? '' });
  if (response.status !== 201) {
    const reason = (await response.text()).trim();
    throw new Error(`${response.status} ${reason || response.statusText}`);
  }
  const location = response.headers.get('location');
  publication.resource = location ? new URL(location, endpoint).href : undefined;
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  if (current === publication && pc.connectionState !== 'connected') showState('connecting', 'connecting media');
}

/** End the publication: DELETE the session (RFC 9725 §4.2), close the peer, release devices. */
async function stop(state: PublishState = 'idle', detail = ''): Promise<void> {
  const publication = current;
  current = undefined;
  showState(state, detail);
  if (!publication) return;
  publication.pc.close();
  for (const track of publication.stream.getTracks()) track.stop();
  preview.srcObject = null;
  if (publication.resource) await fetch(publication.resource, { method: 'DELETE' }).catch(() => undefined);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  start().catch((error: unknown) => void stop('error', error instanceof Error ? error.message : String(error)));
});
stopButton.addEventListener('click', () => void stop());
window.addEventListener('pagehide', () => {
  // keepalive lets the DELETE outlive the page.
  if (current?.resource) void fetch(current.resource, { method: 'DELETE', keepalive: true }).catch(() => undefined);
});

broadcastInput.value = broadcastFromPath() || 'live/demo';
showState('idle');
