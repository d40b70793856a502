export { Http3Error, H3ErrorCode } from './h3-errors.ts';
export { FrameReader, FrameType, encodeFrame, type FrameEvent } from './frames.ts';
export { decodeSettings, encodeSettings, SettingId } from './settings.ts';
export { decodeFieldSection, encodeFieldSection, type FieldLine } from './qpack.ts';
export { huffmanDecode, huffmanEncode } from './huffman.ts';
export { CapsuleReader, encodeCloseCapsule, encodeDrainCapsule, type Capsule } from './capsules.ts';
export { parseProtocolItem, parseProtocolList, serializeString } from './structured-fields.ts';
export { applicationCodeToHttp3, http3CodeToApplication, WebTransportErrorCode, WebTransportStreamType } from './webtransport-codes.ts';
export { connectWebTransport, type ConnectWebTransportOptions } from './webtransport-client.ts';
