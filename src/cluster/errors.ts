/** The cluster cannot start (Redis unreachable, bad options). The message names the cause and the URL. */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';
}
