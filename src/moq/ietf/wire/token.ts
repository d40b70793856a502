/**
 * The AUTHORIZATION TOKEN value (draft-16 §9.2.1.1, draft-14 §9.2.1.1): an alias type, then an
 * alias and/or a token type and value depending on it. A structure that does not parse closes the
 * session with KEY_VALUE_FORMATTING_ERROR.
 */
import { ByteReader, type IntegerFormat } from '../../../wire/byte-reader.ts';
import { ByteWriter } from '../../../wire/byte-writer.ts';
import { ProtocolError } from '../../../wire/errors.ts';
import { IetfProtocolError } from '../errors.ts';
import { formatting } from './key-value.ts';

export type AuthToken =
  | { aliasType: 'delete'; alias: bigint }
  | { aliasType: 'register'; alias: bigint; tokenType: bigint; value: Uint8Array }
  | { aliasType: 'useAlias'; alias: bigint }
  | { aliasType: 'useValue'; tokenType: bigint; value: Uint8Array };

const AliasType = { delete: 0, register: 1, useAlias: 2, useValue: 3 } as const;

/** `integers`: 'vi64' inside draft-18+ messages (§9.2.2 Token uses vi64 fields). */
export function decodeToken(bytes: Uint8Array, integers: IntegerFormat = 'quic'): AuthToken {
  const reader = new ByteReader(bytes, integers);
  try {
    const aliasType = reader.varint();
    switch (aliasType) {
      case AliasType.delete:
        return finish(reader, { aliasType: 'delete', alias: reader.varintBig() });
      case AliasType.useAlias:
        return finish(reader, { aliasType: 'useAlias', alias: reader.varintBig() });
      case AliasType.register: {
        const alias = reader.varintBig();
        const tokenType = reader.varintBig();
        return { aliasType: 'register', alias, tokenType, value: reader.rest() };
      }
      case AliasType.useValue: {
        const tokenType = reader.varintBig();
        return { aliasType: 'useValue', tokenType, value: reader.rest() };
      }
      default:
        throw formatting(`unknown token alias type ${aliasType}`);
    }
  } catch (error) {
    if (error instanceof ProtocolError && !(error instanceof IetfProtocolError)) {
      throw formatting(`malformed authorization token: ${error.message}`);
    }
    throw error;
  }
}

function finish(reader: ByteReader, token: AuthToken): AuthToken {
  reader.expectEnd('authorization token');
  return token;
}

export function encodeToken(token: AuthToken, integers: IntegerFormat = 'quic'): Uint8Array {
  const writer = new ByteWriter(64, integers);
  writer.varint(AliasType[token.aliasType]);
  switch (token.aliasType) {
    case 'delete':
    case 'useAlias':
      writer.varint(token.alias);
      break;
    case 'register':
      writer.varint(token.alias).varint(token.tokenType).bytes(token.value);
      break;
    case 'useValue':
      writer.varint(token.tokenType).bytes(token.value);
      break;
  }
  return writer.finish();
}
