/**
 * What a change of owner for a remote broadcast means locally, for the Redis cluster and the
 * worker mesh alike: the cached relay broadcast ends (its viewers resolve afresh), a link to a
 * node that moved is dropped, and local watchers see the path withdrawn and/or announced — unless
 * a local broadcast holds the path, which is the one announced here.
 */
import type { Origin } from '../relay/index.ts';
import type { StructuredLogger } from '../logger.ts';
import type { LocalBroadcasts } from './local-broadcasts.ts';
import type { NodeLinks } from './node-links.ts';
import type { NodeAddress } from './records.ts';
import type { RemoteBroadcasts } from './remote-broadcasts.ts';

export interface DirectoryParts {
  origin: Origin;
  local: LocalBroadcasts;
  links: NodeLinks;
  remote: RemoteBroadcasts;
  logger: StructuredLogger;
}

export function applyDirectoryChange(parts: DirectoryParts, path: string, previous: NodeAddress | undefined, next: NodeAddress | undefined): void {
  if (previous) parts.remote.invalidate(path);
  if (next) parts.links.forgetIfMoved(next);
  parts.logger.debug({ path, from: previous?.node, to: next?.node }, 'remote broadcast changed');
  if (parts.local.isLocal(path)) return;
  if (previous) parts.origin.announceRemote({ path, active: false });
  if (next) parts.origin.announceRemote({ path, active: true });
}
