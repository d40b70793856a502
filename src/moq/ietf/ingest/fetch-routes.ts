/** FETCH response streams (FETCH_HEADER Request ID) routed to the track that sent the FETCH. */
import type { IngestSink } from './sink.ts';

export interface FetchRoute {
  sink: IngestSink;
  /** The stream is done (or never came): the fill is over either way. */
  done(): void;
}

export class FetchRoutes {
  readonly #routes = new Map<number, FetchRoute>();

  add(requestId: number, route: FetchRoute): void {
    this.#routes.set(requestId, route);
  }

  take(requestId: number): FetchRoute | undefined {
    const route = this.#routes.get(requestId);
    this.#routes.delete(requestId);
    return route;
  }

  clear(): void {
    for (const route of this.#routes.values()) route.done();
    this.#routes.clear();
  }
}
