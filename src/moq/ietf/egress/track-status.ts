/**
 * TRACK_STATUS (draft-16 §9.18, draft-14 §9.19–9.21): what a SUBSCRIBE_OK would say about the
 * track — its Largest Object — without subscribing.
 */
import type { TrackStatus } from '../messages.ts';
import type { SessionContext } from '../session/context.ts';
import { requestError } from '../session/replies.ts';
import { withTimeout } from '../session/timers.ts';
import { trackReady } from '../track-readiness.ts';
import { largestLocation } from './largest.ts';
import { relayTrack, resolveTrack } from './resolve-track.ts';
import { PUBLISHER_GROUP_ORDER } from './subscriptions.ts';

const UPSTREAM_WAIT_MS = 5_000;

export async function answerTrackStatus(ctx: SessionContext, message: TrackStatus): Promise<void> {
  const resolved = await resolveTrack(ctx, message.namespace, message.name, message.parameters.authorizationTokens);
  if (!resolved.ok) return ctx.send(requestError(ctx.version, 'track_status', message.requestId, resolved.reason, resolved.message));
  const track = relayTrack(resolved, 0);
  if (!track) return ctx.send(requestError(ctx.version, 'track_status', message.requestId, 'doesNotExist', 'track not found'));
  // A momentary subscription: an on-demand upstream is released again right after.
  const hold = track.subscribe();
  try {
    const ready = await withTimeout(trackReady(track).then(() => true, () => false), UPSTREAM_WAIT_MS, false);
    if (!ready) return ctx.send(requestError(ctx.version, 'track_status', message.requestId, 'doesNotExist', 'track not available'));
    ctx.send({ type: 'track_status_ok', requestId: message.requestId, largest: largestLocation(track), groupOrder: PUBLISHER_GROUP_ORDER, expiresMs: 0 });
  } finally {
    hold.close();
  }
}
