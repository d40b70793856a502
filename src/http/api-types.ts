/**
 * The JSON shapes the gateway serves over HTTP, in one place: src/http/api.ts and
 * src/http/access-check.ts build them, the browser pages (web/src) read them, and
 * docs/openapi.yaml documents them (test/integration/api.test.ts keeps the three in step).
 */

/** `GET /api/info`. */
export interface ApiInfo {
  httpPort: number;
  /** Absent (undefined) when RTMP ingest is disabled. */
  rtmpPort: number | undefined;
  version: string;
  /** How QUIC packets reach the kernel: the batched addon or node:dgram, and why. */
  udp: { mode: 'batched' | 'dgram'; reason: string };
  /** `--workers`: how many gateway processes share the ports, and which one answered (0-based). */
  workers: {
    count: number;
    index: number;
    /** With more than one worker: what this one relays from the others (one upstream per track). */
    mesh?: { remoteBroadcasts: number; workerConnections: number; upstreamSubscriptions: number };
  };
}

export interface ApiTrack {
  name: string;
  /** `video`, `audio`, or `unknown` (a subscribed track the catalog does not name). */
  kind: string;
  /** WebCodecs codec string from the publisher's track description or the broadcast's catalog. */
  codec: string;
  /**
   * Ingest bits per second, averaged over at least the last second. RTMP and WHIP tracks are
   * measured watched or not; a MoQ-published track flows (and reads above 0) only while subscribed.
   */
  bitrate: number;
  subscribers: number;
}

export interface ApiPublisher {
  protocol: string;
  remoteAddress: string;
  /** False while the encoder is away within its reconnect grace period. */
  connected: boolean;
}

/** An entry of `GET /api/broadcasts`, and `GET /api/broadcasts/{path}`. */
export interface ApiBroadcast {
  path: string;
  /** Media tracks; for a MoQ publisher or a relayed broadcast, those its catalog names. */
  tracks: ApiTrack[];
  /** Undefined (left out of the JSON) for a broadcast relayed from another node. */
  publisher: ApiPublisher | undefined;
  /** Sessions subscribed to any of its tracks (catalog included), each once; HLS counts as one. */
  viewers: number;
  /** ISO date-time. */
  startedAt: string;
  uptimeSeconds: number;
  /** Under `--workers N`: the worker holding its publisher (absent when relayed from another node). */
  worker?: number;
}

/** An entry of `GET /api/sessions`. */
export interface ApiSession {
  id: number;
  protocol: string;
  transport: string;
  remoteAddress: string;
  /** ISO date-time. */
  startedAt: string;
  /** Under `--workers N`: the worker serving it. */
  worker?: number;
}

/** An entry of `closed` in `GET /api/sessions`: a recently ended session and why it ended. */
export interface ApiClosedSession extends ApiSession {
  /** ISO date-time. */
  closedAt: string;
  /** The close reason the session gave (e.g. `viewer stalled: ...`); '' when none. */
  reason: string;
}

/** `GET /access/{broadcast}`: what the caller's token allows for one broadcast. */
export interface AccessAnswer {
  /** false: the gateway runs without --auth-key (everything is allowed). */
  authentication: boolean;
  subscribe: boolean;
  publish: boolean;
  /** Why the token was refused (missing, malformed, bad-signature, unknown-key, expired, not-yet-valid). */
  refused?: string;
  message?: string;
  /** When the token expires, ms since the epoch. */
  expiresAt?: number;
  /** Whether the broadcast is live now; told only to those who may watch it. */
  live?: boolean;
}

/** One recording in `GET /api/recordings` (`--record`). */
export interface ApiRecording {
  /** The recording's directory name under `--record-dir`. */
  id: string;
  broadcast: string;
  startedAt: string;
  /** null while the broadcast is still being recorded. */
  endedAt: string | null;
  /** Seconds recorded (complete segments on disk). */
  durationS: number;
  /** Bytes of media on disk. */
  bytes: number;
  /** Path of the VOD HLS playlist (`/recordings/<id>/index.m3u8`); needs the broadcast's `get` scope (`?jwt=`) when auth is on. */
  playlist: string;
  /** A progressive MP4 of the whole recording: not produced yet, always null. */
  mp4: string | null;
}
