/**
 * Bounds on what a peer can make this endpoint hold. Every length read from the network is checked
 * against one of these before anything is allocated for it.
 */

/** Control messages carry a 16-bit length (draft-16 §9); this is the absolute ceiling. */
export const MAX_CONTROL_MESSAGE_BYTES = 0xffff;

/** Track Namespace fields (draft-16 §2.4.1: 1..32; SUBSCRIBE_NAMESPACE prefixes may have 0). */
export const MAX_NAMESPACE_FIELDS = 32;

/** Full Track Name length, namespace fields plus track name (draft-16 §2.4.1). */
export const MAX_FULL_TRACK_NAME_BYTES = 4096;

/** Reason phrases (draft-16 §1.4.3). */
export const MAX_REASON_PHRASE_BYTES = 1024;

/** GOAWAY New Session URI (draft-16 §9.4). */
export const MAX_GOAWAY_URI_BYTES = 8192;

/** Key-Value-Pair byte values (draft-16 §1.4.2). */
export const MAX_KEY_VALUE_BYTES = 0xffff;

/** Parameters in one message; more than any real peer sends. */
export const MAX_PARAMETERS = 64;

/** Versions in a draft-14 CLIENT_SETUP. */
export const MAX_SETUP_VERSIONS = 128;

/** Object extension header block, in bytes. */
export const MAX_EXTENSION_BLOCK_BYTES = 16 * 1024;

/** Default largest object payload accepted from a publisher. */
export const DEFAULT_MAX_OBJECT_BYTES = 16 * 1024 * 1024;
