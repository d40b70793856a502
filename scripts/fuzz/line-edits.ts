import fc from 'fast-check';

/**
 * Up to six line-level edits of a text (a line deleted, duplicated, swapped, inserted, or one
 * character changed), joined with CRLF: inputs that stay close to a valid document (e.g. an SDP
 * offer) and so reach deep into its validation. `insertable` makes the inserted lines.
 */
export function editedLines(lines: readonly string[], insertable: fc.Arbitrary<string> = fc.string({ maxLength: 40 })): fc.Arbitrary<string> {
  return fc
    .array(
      fc.oneof(
        fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
        fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
        fc.record({ kind: fc.constant('char' as const), at: fc.nat(), pos: fc.nat(), ch: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }),
        fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
        fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), line: insertable }),
      ),
      { maxLength: 6 },
    )
    .map((edits) => {
      const edited = [...lines];
      for (const edit of edits) {
        const at = edit.at % edited.length;
        if (edit.kind === 'delete') edited.splice(at, 1);
        else if (edit.kind === 'duplicate') edited.splice(at, 0, edited[at]!);
        else if (edit.kind === 'insert') edited.splice(at, 0, edit.line);
        else if (edit.kind === 'swap') [edited[at], edited[edit.other % edited.length]] = [edited[edit.other % edited.length]!, edited[at]!];
        else {
          const line = edited[at]!;
          const pos = edit.pos % (line.length + 1);
          edited[at] = line.slice(0, pos) + edit.ch + line.slice(pos + 1);
        }
        if (edited.length === 0) edited.push('');
      }
      return `${edited.join('\r\n')}\r\n`;
    });
}
