/**
 * Responses to requests this endpoint sent (odd request IDs): SUBSCRIBE_OK, REQUEST_OK/ERROR,
 * FETCH_OK, PUBLISH_DONE, ... routed back to whoever sent the request.
 */
import type { ControlMessage } from '../messages.ts';

export type ResponseHandler = (message: ControlMessage) => void;

export class OutboundRequests {
  readonly #handlers = new Map<number, ResponseHandler>();

  register(requestId: number, handler: ResponseHandler): void {
    this.#handlers.set(requestId, handler);
  }

  forget(requestId: number): void {
    this.#handlers.delete(requestId);
  }

  /** False when no request is waiting for it (a late answer to something we already dropped). */
  dispatch(requestId: number, message: ControlMessage): boolean {
    const handler = this.#handlers.get(requestId);
    if (!handler) return false;
    handler(message);
    return true;
  }

  clear(): void {
    this.#handlers.clear();
  }
}
