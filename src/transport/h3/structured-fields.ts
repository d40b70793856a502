/**
 * The slice of Structured Field Values (RFC 9651) that WebTransport protocol negotiation needs
 * (draft-ietf-webtrans-http3 §3.3): `WT-Available-Protocols` is a List and `WT-Protocol` an
 * Item, each member a String; parameters are ignored. Parsing follows RFC 9651 §4.2 for the
 * value types that can appear; any syntax error yields undefined ("ignore the field").
 */

type BareItem = { kind: 'string' | 'token'; value: string } | { kind: 'other' };

class FieldParser {
  #pos = 0;
  constructor(private readonly input: string) {}

  get done(): boolean {
    return this.#pos >= this.input.length;
  }

  #peek(): string {
    return this.input[this.#pos] ?? '';
  }

  skipSpaces(): void {
    while (this.#peek() === ' ') this.#pos++;
  }

  skipOws(): void {
    while (this.#peek() === ' ' || this.#peek() === '\t') this.#pos++;
  }

  expect(char: string): void {
    if (this.#peek() !== char) throw new SyntaxError(`expected ${char}`);
    this.#pos++;
  }

  /** §4.2.1.1 item or inner list; inner lists count as a non-string member. */
  member(): BareItem {
    if (this.#peek() === '(') {
      this.#pos++;
      for (;;) {
        this.skipSpaces();
        if (this.#peek() === ')') {
          this.#pos++;
          break;
        }
        this.item();
        const next = this.#peek();
        if (next !== ' ' && next !== ')') throw new SyntaxError('bad inner list');
      }
      this.parameters();
      return { kind: 'other' };
    }
    return this.item();
  }

  item(): BareItem {
    const bare = this.bareItem();
    this.parameters();
    return bare;
  }

  parameters(): void {
    while (this.#peek() === ';') {
      this.#pos++;
      this.skipSpaces();
      if (!/^[a-z*]$/.test(this.#peek())) throw new SyntaxError('bad parameter key');
      while (/^[a-z0-9_\-.*]$/.test(this.#peek())) this.#pos++;
      if (this.#peek() === '=') {
        this.#pos++;
        this.bareItem();
      }
    }
  }

  bareItem(): BareItem {
    const c = this.#peek();
    if (c === '"') return { kind: 'string', value: this.#string() };
    if (/^[A-Za-z*]$/.test(c)) return { kind: 'token', value: this.#match(/^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/) };
    if (/^[-0-9]$/.test(c)) this.#match(/^-?[0-9]{1,15}(\.[0-9]{1,3})?/);
    else if (c === ':') this.#match(/^:[A-Za-z0-9+/=]*:/);
    else if (c === '?') this.#match(/^\?[01]/);
    else if (c === '@') this.#match(/^@-?[0-9]{1,15}/);
    else if (c === '%') this.#match(/^%"([\x20-\x21\x23-\x24\x26-\x7e]|%[0-9a-f]{2})*"/);
    else throw new SyntaxError('bad bare item');
    return { kind: 'other' };
  }

  #match(pattern: RegExp): string {
    const found = pattern.exec(this.input.slice(this.#pos));
    if (!found) throw new SyntaxError('bad value');
    this.#pos += found[0].length;
    return found[0];
  }

  /** §4.2.5: DQUOTE *( unescaped / "\" ( DQUOTE / "\" ) ) DQUOTE, printable ASCII only. */
  #string(): string {
    this.#pos++;
    let value = '';
    for (;;) {
      const c = this.input[this.#pos++];
      if (c === undefined) throw new SyntaxError('unterminated string');
      if (c === '"') return value;
      if (c === '\\') {
        const escaped = this.input[this.#pos++];
        if (escaped !== '"' && escaped !== '\\') throw new SyntaxError('bad escape');
        value += escaped;
        continue;
      }
      const code = c.charCodeAt(0);
      if (code < 0x20 || code > 0x7e) throw new SyntaxError('bad string character');
      value += c;
    }
  }
}

/**
 * Parses a List whose members must all be Strings. Tokens are accepted as well, as a leniency
 * for clients of earlier drafts that sent `WT-Available-Protocols: moq-lite-04, moql`.
 */
export function parseProtocolList(field: string): string[] | undefined {
  const parser = new FieldParser(field);
  const protocols: string[] = [];
  try {
    parser.skipSpaces();
    while (!parser.done) {
      const member = parser.member();
      if (member.kind === 'other') return undefined;
      protocols.push(member.value);
      parser.skipOws();
      if (parser.done) break;
      parser.expect(',');
      parser.skipOws();
      if (parser.done) return undefined; // trailing comma
    }
    return protocols;
  } catch {
    return undefined;
  }
}

/** Parses an Item that must be a String (or, leniently, a Token). */
export function parseProtocolItem(field: string): string | undefined {
  const parser = new FieldParser(field);
  try {
    parser.skipSpaces();
    const item = parser.item();
    parser.skipSpaces();
    if (!parser.done || item.kind === 'other') return undefined;
    return item.value;
  } catch {
    return undefined;
  }
}

/** Serializes an sf-string (§4.1.6); throws on characters a String cannot carry. */
export function serializeString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new TypeError('structured field strings are printable ASCII');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
