/** The ports a gateway (or one worker) listens on once started. */
export interface GatewayPorts {
  http: number;
  rtmp: number | undefined;
  rtmps?: number;
  /** --metrics-listen: the separate /metrics listener. */
  metrics?: number;
}
