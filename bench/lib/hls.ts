/**
 * HLS watchers that measure when media becomes downloadable:
 * - LL-HLS (ours): blocking playlist reloads (`_HLS_msn`/`_HLS_part`) for the next part; each new
 *   part is fetched and the stamps in it (SEI user data inside the fMP4 samples) give per-frame
 *   "part listed" latency; each completed segment gives "segment listed" latency for its frames.
 * - classic HLS (nginx-rtmp): the playlist is polled every `pollMs`; each new segment (MPEG-TS) is
 *   fetched, its packets reassembled per PID and searched for stamps.
 * Only frames sent after `measureFrom` count.
 */
import { findStamps } from './stamp.ts';
import { Histogram } from './stats.ts';

export interface HlsWatch {
  /** Part listed → per frame (LL-HLS only). */
  part: Histogram;
  /** Segment listed → per frame. */
  segment: Histogram;
  requests: number;
  errors: number;
  bytes: number;
  stop(): Promise<void>;
}

interface Entry {
  msn: number;
  part?: number;
  uri: string;
}

function parseMediaPlaylist(text: string): { parts: Entry[]; segments: Entry[]; ended: boolean } {
  const parts: Entry[] = [];
  const segments: Entry[] = [];
  let msn = 0;
  let partIndex = 0;
  let pendingInf = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) msn = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-PART:')) {
      const uri = /URI="([^"]+)"/.exec(line)?.[1];
      if (uri) parts.push({ msn, part: partIndex++, uri });
    } else if (line.startsWith('#EXTINF:')) pendingInf = true;
    else if (line && !line.startsWith('#') && pendingInf) {
      segments.push({ msn, uri: line });
      msn++;
      partIndex = 0;
      pendingInf = false;
    }
  }
  return { parts, segments, ended: text.includes('#EXT-X-ENDLIST') };
}

const now = (): number => performance.timeOrigin + performance.now();

/** Watches an LL-HLS media playlist with blocking reloads. */
export function watchLowLatencyHls(mediaPlaylistUrl: string, measureFrom: () => number, opts: { fetchParts?: boolean } = {}): HlsWatch {
  const part = new Histogram();
  const segment = new Histogram();
  const seenParts = new Set<string>();
  const seenSegments = new Set<number>();
  const stampsBySegment = new Map<number, number[]>();
  const segmentListedAt = new Map<number, number>();
  const controller = new AbortController();
  const state: HlsWatch = {
    part,
    segment,
    requests: 0,
    errors: 0,
    bytes: 0,
    stop: async () => {
      controller.abort();
      await running.catch(() => undefined);
      flushSegments(true);
    },
  };
  const fetchParts = opts.fetchParts ?? true;

  const flushSegments = (all = false) => {
    for (const [msn, listedAt] of segmentListedAt) {
      const stamps = stampsBySegment.get(msn);
      // Parts are fetched in order; a segment is complete once its successor has any part.
      if (!all && !stampsBySegment.has(msn + 1)) continue;
      for (const sentAt of stamps ?? []) if (sentAt >= measureFrom()) segment.record(listedAt - sentAt);
      segmentListedAt.delete(msn);
      stampsBySegment.delete(msn);
    }
  };

  const fetchPart = async (entry: Entry, listedAt: number) => {
    const res = await fetch(new URL(entry.uri, mediaPlaylistUrl), { signal: controller.signal });
    state.requests++;
    if (!res.ok) {
      state.errors++;
      await res.arrayBuffer().catch(() => undefined);
      return;
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    state.bytes += bytes.byteLength;
    const list = stampsBySegment.get(entry.msn) ?? [];
    stampsBySegment.set(entry.msn, list);
    for (const stamp of findStamps(bytes)) {
      list.push(stamp.sentAt);
      if (stamp.sentAt >= measureFrom()) part.record(listedAt - stamp.sentAt);
    }
  };

  const running = (async () => {
    let next: { msn: number; part: number } | undefined;
    while (!controller.signal.aborted) {
      const url = new URL(mediaPlaylistUrl);
      if (next) {
        url.searchParams.set('_HLS_msn', String(next.msn));
        url.searchParams.set('_HLS_part', String(next.part));
      }
      let text: string;
      try {
        const res = await fetch(url, { signal: controller.signal });
        state.requests++;
        text = await res.text();
        if (!res.ok) {
          state.errors++;
          next = undefined;
          await delay(50, controller.signal);
          continue;
        }
      } catch {
        if (controller.signal.aborted) break;
        state.errors++;
        await delay(100, controller.signal);
        continue;
      }
      const listedAt = now();
      const playlist = parseMediaPlaylist(text);
      const fresh: Entry[] = [];
      for (const p of playlist.parts) {
        const key = `${p.msn}.${p.part}`;
        if (seenParts.has(key)) continue;
        seenParts.add(key);
        fresh.push(p);
      }
      for (const s of playlist.segments) {
        if (seenSegments.has(s.msn)) continue;
        seenSegments.add(s.msn);
        // The first playlist lists segments completed before we came: not a measurement.
        if (next) segmentListedAt.set(s.msn, listedAt);
      }
      if (fetchParts) {
        for (const p of fresh) {
          if (!next) {
            // First response: only track stamps of parts that are new from now on.
            stampsBySegment.set(p.msn, stampsBySegment.get(p.msn) ?? []);
            continue;
          }
          try {
            await fetchPart(p, listedAt);
          } catch {
            if (controller.signal.aborted) break;
            state.errors++;
          }
        }
      }
      flushSegments();
      if (playlist.ended) break;
      const last = playlist.parts.at(-1);
      const lastSegment = playlist.segments.at(-1);
      if (last) next = { msn: last.msn, part: (last.part ?? 0) + 1 };
      else if (lastSegment) next = { msn: lastSegment.msn + 1, part: 0 };
      else await delay(100, controller.signal);
    }
  })();
  return state;
}

/** Polls a classic HLS playlist (MPEG-TS segments) every `pollMs`. */
export function watchClassicHls(playlistUrl: string, measureFrom: () => number, opts: { pollMs?: number } = {}): HlsWatch {
  const segment = new Histogram();
  const seen = new Set<string>();
  const controller = new AbortController();
  let first = true;
  const state: HlsWatch = {
    part: new Histogram(),
    segment,
    requests: 0,
    errors: 0,
    bytes: 0,
    stop: async () => {
      controller.abort();
      await running.catch(() => undefined);
    },
  };
  const running = (async () => {
    while (!controller.signal.aborted) {
      const started = performance.now();
      try {
        const res = await fetch(playlistUrl, { signal: controller.signal });
        state.requests++;
        const text = await res.text();
        const listedAt = now();
        if (res.ok) {
          const uris = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
          for (const uri of uris) {
            if (seen.has(uri)) continue;
            seen.add(uri);
            if (first) continue;
            const seg = await fetch(new URL(uri, playlistUrl), { signal: controller.signal });
            state.requests++;
            const bytes = new Uint8Array(await seg.arrayBuffer());
            state.bytes += bytes.byteLength;
            for (const stamp of findStamps(tsPayloads(bytes))) if (stamp.sentAt >= measureFrom()) segment.record(listedAt - stamp.sentAt);
          }
          first = false;
        }
      } catch {
        if (controller.signal.aborted) break;
        state.errors++;
      }
      await delay(Math.max(0, (opts.pollMs ?? 25) - (performance.now() - started)), controller.signal);
    }
  })();
  return state;
}

/** MPEG-TS → the concatenated payloads of every PID, one after the other (enough to find stamps). */
export function tsPayloads(ts: Uint8Array): Buffer {
  const perPid = new Map<number, Buffer[]>();
  for (let at = 0; at + 188 <= ts.length; at += 188) {
    if (ts[at] !== 0x47) continue;
    const pid = ((ts[at + 1]! & 0x1f) << 8) | ts[at + 2]!;
    const afc = (ts[at + 3]! >> 4) & 0x3;
    let start = at + 4;
    if (afc === 2) continue; // adaptation field only
    if (afc === 3) start += 1 + ts[at + 4]!;
    if (start >= at + 188) continue;
    const list = perPid.get(pid) ?? [];
    list.push(Buffer.from(ts.buffer, ts.byteOffset + start, at + 188 - start));
    perPid.set(pid, list);
  }
  return Buffer.concat([...perPid.values()].map((l) => Buffer.concat(l)));
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** The first media playlist URL named in a multivariant playlist. */
export async function firstMediaPlaylist(multivariantUrl: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(multivariantUrl, { signal: AbortSignal.timeout(5000) });
      const text = await res.text();
      if (res.ok) {
        const uri = text.split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
        if (uri) return new URL(uri, multivariantUrl).href;
      }
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`no media playlist in ${multivariantUrl}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
