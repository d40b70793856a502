/** The viewer kinds the lean load generator (worker.ts) serves. */
export type LeanProtocol = 'lite-ws' | 'lite-quic' | 'bare-ws' | 'rtmp';
export const LEAN_PROTOCOLS: readonly string[] = ['lite-ws', 'lite-quic', 'bare-ws', 'rtmp'] satisfies LeanProtocol[];
