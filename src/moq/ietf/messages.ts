/**
 * Control messages as the session sees them, independent of the draft that carries them.
 *
 * Each draft's codec (draft14/, draft16/) maps these to and from its own type numbers and field
 * layout: draft-14 has inline priority/group order/forward/filter fields and one error message per
 * request kind; draft-16 moves those into Message Parameters and answers every request with
 * REQUEST_OK / REQUEST_ERROR. Fields a draft cannot carry are dropped on encode and left at their
 * defaults on decode.
 */
import type { RequestKind } from './errors.ts';
import type { KeyValuePair } from './wire/key-value.ts';
import type { Location } from './wire/location.ts';
import type { TrackNamespace } from './wire/namespace.ts';
import type { AuthToken } from './wire/token.ts';

export type GroupOrder = 'ascending' | 'descending';

/** Subscription filters (draft-16 §5.1.2, draft-14 §9.7). */
export type SubscriptionFilter =
  | { type: 'nextGroupStart' }
  | { type: 'largestObject' }
  | { type: 'absoluteStart'; start: Location }
  | { type: 'absoluteRange'; start: Location; endGroup: number };

/** Message Parameters the session understands (draft-16 §9.2.1, draft-14 §9.2.1). */
export interface MessageParameters {
  /** AUTHORIZATION_TOKEN, which may repeat. */
  authorizationTokens: AuthToken[];
  deliveryTimeoutMs?: number;
  /** draft-14 only; a Track Extension in draft-16. */
  maxCacheDurationMs?: number;
  subscriberPriority?: number;
  groupOrder?: GroupOrder;
  filter?: SubscriptionFilter;
  forward?: boolean;
  expiresMs?: number;
  largest?: Location;
  newGroupRequest?: number;
  /** draft-18+: SUBGROUP_DELIVERY_TIMEOUT (deliveryTimeoutMs is then OBJECT_DELIVERY_TIMEOUT). */
  subgroupDeliveryTimeoutMs?: number;
  /** draft-18+ RENDEZVOUS_TIMEOUT (SUBSCRIBE). */
  rendezvousTimeoutMs?: number;
  /** draft-18+ FILL_TIMEOUT (FETCH). */
  fillTimeoutMs?: number;
  /** draft-18+ TRACK_NAMESPACE_PREFIX (REQUEST_UPDATE of a namespace subscription). */
  namespacePrefix?: TrackNamespace;
}

/** What a publisher says about a track (draft-16 Track Extensions; draft-14 inline fields). */
export interface TrackProperties {
  /** DEFAULT_PUBLISHER_PRIORITY (0 is highest); draft-16 default 128. */
  publisherPriority?: number;
  /** DEFAULT_PUBLISHER_GROUP_ORDER; draft-16 default ascending. */
  groupOrder?: GroupOrder;
  deliveryTimeoutMs?: number;
  maxCacheDurationMs?: number;
  /** Track Extensions this endpoint does not interpret, kept to forward. */
  other: KeyValuePair[];
}

export interface SetupParameters {
  path?: string;
  authority?: string;
  maxRequestId?: number;
  maxAuthTokenCacheSize?: number;
  authorizationTokens: AuthToken[];
  implementation?: string;
}

export interface ClientSetup {
  type: 'client_setup';
  /** The offered versions (draft-14); empty for ALPN-pinned drafts. */
  versions: number[];
  parameters: SetupParameters;
}

export interface ServerSetup {
  type: 'server_setup';
  /** The selected version (draft-14); undefined for ALPN-pinned drafts. */
  version?: number;
  parameters: SetupParameters;
}

export interface GoAway {
  type: 'goaway';
  uri: string;
  /** draft-18+: ms the sender waits before closing; 0 = no specific timeout. */
  timeoutMs?: number;
  /** draft-18 only, on the control stream: the smallest peer Request ID not processed. */
  requestId?: number;
}

export interface MaxRequestId {
  type: 'max_request_id';
  maxRequestId: number;
}

export interface RequestsBlocked {
  type: 'requests_blocked';
  maxRequestId: number;
}

export interface Subscribe {
  type: 'subscribe';
  requestId: number;
  namespace: TrackNamespace;
  name: Uint8Array;
  /** 0 is the highest; 128 when the subscriber gave none. */
  subscriberPriority: number;
  /** Undefined: the publisher's preference. */
  groupOrder?: GroupOrder;
  forward: boolean;
  /** Undefined: unfiltered (draft-16 only; draft-14 always has a filter). */
  filter?: SubscriptionFilter;
  parameters: MessageParameters;
}

export interface SubscribeOk {
  type: 'subscribe_ok';
  requestId: number;
  trackAlias: number;
  expiresMs: number;
  /** The order the subscription will be delivered in (draft-14 field; draft-16 extension). */
  groupOrder: GroupOrder;
  largest?: Location;
  properties: TrackProperties;
}

/**
 * A refused request: SUBSCRIBE_ERROR, FETCH_ERROR, ... in draft-14, REQUEST_ERROR in draft-16.
 * `kind` picks the draft-14 message; a draft-16 decode leaves it undefined (the session knows).
 */
export interface RequestError {
  type: 'request_error';
  kind?: RequestKind;
  requestId: number;
  code: number;
  /** Minimum retry delay in ms plus one; 0 means do not retry (draft-16 only). */
  retryInterval: number;
  reason: string;
  /** draft-18+: where to retry, present when `code` is REDIRECT (draft-18 §9.6.1). */
  redirect?: Redirect;
}

export interface Redirect {
  uri: string;
  namespace: TrackNamespace;
  name: Uint8Array;
}

/** PUBLISH_NAMESPACE_OK / SUBSCRIBE_NAMESPACE_OK (draft-14) or REQUEST_OK (draft-16). */
export interface RequestOk {
  type: 'request_ok';
  kind?: RequestKind;
  requestId: number;
  parameters: MessageParameters;
  /** draft-18+: Track Properties (empty except in the TRACK_STATUS answer). */
  properties?: TrackProperties;
}

/** TRACK_STATUS_OK (draft-14) or REQUEST_OK with LARGEST_OBJECT (draft-16). */
export interface TrackStatusOk {
  type: 'track_status_ok';
  requestId: number;
  largest?: Location;
  groupOrder: GroupOrder;
  expiresMs: number;
}

/** SUBSCRIBE_UPDATE (draft-14) or REQUEST_UPDATE (draft-16). */
export interface RequestUpdate {
  type: 'request_update';
  requestId: number;
  existingRequestId: number;
  subscriberPriority?: number;
  forward?: boolean;
  filter?: SubscriptionFilter;
  parameters: MessageParameters;
}

export interface Unsubscribe {
  type: 'unsubscribe';
  requestId: number;
}

export interface Publish {
  type: 'publish';
  requestId: number;
  namespace: TrackNamespace;
  name: Uint8Array;
  trackAlias: number;
  largest?: Location;
  forward: boolean;
  properties: TrackProperties;
  parameters: MessageParameters;
}

export interface PublishOk {
  type: 'publish_ok';
  requestId: number;
  forward: boolean;
  subscriberPriority: number;
  groupOrder?: GroupOrder;
  filter?: SubscriptionFilter;
  parameters: MessageParameters;
}

export interface PublishDone {
  type: 'publish_done';
  requestId: number;
  statusCode: number;
  /** Streams opened for the subscription; 2^62-1 when unknown. */
  streamCount: bigint;
  reason: string;
}

export type FetchRange =
  | { type: 'standalone'; namespace: TrackNamespace; name: Uint8Array; start: Location; end: Location }
  | { type: 'relativeJoining' | 'absoluteJoining'; joiningRequestId: number; joiningStart: number };

export interface Fetch {
  type: 'fetch';
  requestId: number;
  subscriberPriority: number;
  groupOrder?: GroupOrder;
  range: FetchRange;
  parameters: MessageParameters;
}

export interface FetchOk {
  type: 'fetch_ok';
  requestId: number;
  groupOrder: GroupOrder;
  endOfTrack: boolean;
  endLocation: Location;
  properties: TrackProperties;
}

export interface FetchCancel {
  type: 'fetch_cancel';
  requestId: number;
}

export interface TrackStatus {
  type: 'track_status';
  requestId: number;
  namespace: TrackNamespace;
  name: Uint8Array;
  parameters: MessageParameters;
}

export interface PublishNamespace {
  type: 'publish_namespace';
  requestId: number;
  namespace: TrackNamespace;
  parameters: MessageParameters;
}

/** draft-14 names the namespace; draft-16 the PUBLISH_NAMESPACE request. */
export interface PublishNamespaceDone {
  type: 'publish_namespace_done';
  requestId?: number;
  namespace?: TrackNamespace;
}

export interface PublishNamespaceCancel {
  type: 'publish_namespace_cancel';
  requestId?: number;
  namespace?: TrackNamespace;
  code: number;
  reason: string;
}

export type SubscribeNamespaceOptions = 'publish' | 'namespace' | 'both';

export interface SubscribeNamespace {
  type: 'subscribe_namespace';
  requestId: number;
  prefix: TrackNamespace;
  /** What the subscriber wants sent (draft-16); draft-14 always gets namespaces. */
  options: SubscribeNamespaceOptions;
  parameters: MessageParameters;
}

/** NAMESPACE (draft-16, on the SUBSCRIBE_NAMESPACE stream): a suffix under the prefix appeared. */
export interface Namespace {
  type: 'namespace';
  suffix: TrackNamespace;
}

/** NAMESPACE_DONE (draft-16, on the SUBSCRIBE_NAMESPACE stream). */
export interface NamespaceDone {
  type: 'namespace_done';
  suffix: TrackNamespace;
}

/** PUBLISH_BLOCKED (draft-18 §9.22, on the SUBSCRIBE_TRACKS stream): a track not sent as PUBLISH. */
export interface PublishBlocked {
  type: 'publish_blocked';
  suffix: TrackNamespace;
  name: Uint8Array;
}

/**
 * UNSUBSCRIBE_NAMESPACE (draft-14). The draft names the prefix; some clients (@moq/net) send the
 * SUBSCRIBE_NAMESPACE request ID instead, so the decoder reports whichever reading fits.
 */
export interface UnsubscribeNamespace {
  type: 'unsubscribe_namespace';
  prefix?: TrackNamespace;
  requestId?: number;
}

export type ControlMessage =
  | ClientSetup
  | ServerSetup
  | GoAway
  | MaxRequestId
  | RequestsBlocked
  | Subscribe
  | SubscribeOk
  | RequestError
  | RequestOk
  | TrackStatusOk
  | RequestUpdate
  | Unsubscribe
  | Publish
  | PublishOk
  | PublishDone
  | Fetch
  | FetchOk
  | FetchCancel
  | TrackStatus
  | PublishNamespace
  | PublishNamespaceDone
  | PublishNamespaceCancel
  | SubscribeNamespace
  | Namespace
  | NamespaceDone
  | PublishBlocked
  | UnsubscribeNamespace;

export type ControlMessageType = ControlMessage['type'];

/** Default subscriber and publisher priority (draft-16 §7.3). */
export const DEFAULT_PRIORITY = 128;

export function emptyProperties(): TrackProperties {
  return { other: [] };
}

export function emptySetupParameters(): SetupParameters {
  return { authorizationTokens: [] };
}
