/**
 * Cluster: gateway nodes sharing one broadcast namespace through Redis (registrations with a TTL,
 * pub/sub announcements) and serving each other's broadcasts over moq-lite node-to-node
 * connections, one upstream subscription per track per node. See cluster.ts.
 */
export {
  startCluster,
  type Cluster,
  type ClusterOptions,
  type ClusterStats,
} from './cluster.ts';
export { ClusterError } from './errors.ts';
export { nodeTokenSource } from './node-token.ts';
export { WorkerMesh, type MeshAnnouncement, type WorkerMeshStats } from './worker-mesh.ts';
