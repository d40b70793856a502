/**
 * The shared front half of SUBSCRIBE, FETCH and TRACK_STATUS: namespace → relay path, track name,
 * authorization, broadcast, and the relay track (with its IETF object format).
 */
import type { Broadcast } from '../../../relay/broadcast.ts';
import type { Track } from '../../../relay/track.ts';
import type { RequestErrorReason } from '../errors.ts';
import type { EgressTrack } from '../media-bridge.ts';
import type { SessionContext } from '../session/context.ts';
import { countingSent } from '../session/counters.ts';
import { namespaceToPath, trackNameToString } from '../session/paths.ts';
import type { TrackNamespace } from '../wire/namespace.ts';
import type { AuthToken } from '../wire/token.ts';

export interface ResolvedTrack {
  ok: true;
  path: string;
  name: string;
  broadcast: Broadcast;
  egress: EgressTrack;
}

export interface Refusal {
  ok: false;
  reason: RequestErrorReason;
  message: string;
}

export async function resolveTrack(
  ctx: SessionContext,
  namespace: TrackNamespace,
  nameBytes: Uint8Array,
  tokens: readonly AuthToken[],
): Promise<ResolvedTrack | Refusal> {
  const path = namespaceToPath(ctx.root, namespace);
  const name = trackNameToString(nameBytes);
  if (path === undefined || name === undefined) return { ok: false, reason: 'doesNotExist', message: 'no such track' };
  if ((await ctx.authorize('subscribe', path, tokens)) !== 'ok') return { ok: false, reason: 'unauthorized', message: 'not authorized' };
  const broadcast = ctx.origin.get(path);
  if (!broadcast) return { ok: false, reason: 'doesNotExist', message: `broadcast ${path} not found` };
  const { relayName, format } = await ctx.media.egressTrack(broadcast, name, ctx.tuning.catalogProbeMs, ctx.peer);
  return { ok: true, path, name, broadcast, egress: { relayName, format: () => format().then((f) => countingSent(f, ctx.counters)) } };
}

/** The relay track behind `resolved`, requesting it upstream when needed. */
export function relayTrack(resolved: ResolvedTrack, relayPriority: number): Track | undefined {
  return resolved.broadcast.getTrack(resolved.egress.relayName, relayPriority);
}
