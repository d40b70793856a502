/**
 * Objects as they travel on data streams and datagrams (draft-16 §10, draft-14 §10), independent
 * of the draft's header layout.
 */
import type { KeyValuePair } from '../wire/key-value.ts';

/** Object Status (draft-16 §10.2.1.1; draft-14 adds Does Not Exist). */
export type ObjectStatus = 'normal' | 'doesNotExist' | 'endOfGroup' | 'endOfTrack';

export interface SubgroupHeader {
  trackAlias: number;
  groupId: number;
  /** 'firstObject': the subgroup ID is the ID of the first object on the stream. */
  subgroupId: number | 'firstObject';
  /** Absent when the draft-16 DEFAULT_PRIORITY bit says to use the subscription's. */
  publisherPriority?: number;
  /** Every object on the stream carries an extension block. */
  hasExtensions: boolean;
  /** The last object before FIN is the last object in the group. */
  endOfGroup: boolean;
  /** draft-18+ FIRST_OBJECT (§10.4.2): the first object on the stream is the subgroup's first. */
  firstObject?: boolean;
}

export interface MoqObject {
  objectId: number;
  status: ObjectStatus;
  extensions: KeyValuePair[];
  /** Empty unless status is normal. */
  payload: Uint8Array;
}

export interface FetchObject extends MoqObject {
  groupId: number;
  /** Undefined for objects with Datagram forwarding preference. */
  subgroupId?: number;
  publisherPriority: number;
}

/** draft-16 FETCH range markers: objects up to `location` inclusive do not exist / are unknown. */
export interface FetchRangeEnd {
  endOfRange: 'nonExistent' | 'unknown';
  groupId: number;
  objectId: number;
}

export interface DatagramObject extends MoqObject {
  trackAlias: number;
  groupId: number;
  publisherPriority?: number;
  endOfGroup: boolean;
}
