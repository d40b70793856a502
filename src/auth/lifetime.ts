const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Reads an `--expires` value into an absolute `exp` (unix seconds), or undefined for `never`.
 * `90s`, `30m`, `1h`, `7d`, `2w` count from `nowMs`; a bare integer is a unix time, as
 * moq-token's CLI takes it; an ISO date (`2030-01-01T00:00:00Z`) is absolute too.
 */
export function parseExpiresAt(text: string, nowMs: number): number | undefined {
  const value = text.trim();
  const now = Math.floor(nowMs / 1000);
  if (value === 'never') return undefined;
  const relative = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(value);
  if (relative) {
    const seconds = Math.round(Number(relative[1]) * UNIT_SECONDS[relative[2]!.toLowerCase()]!);
    if (seconds <= 0) throw new Error(`--expires ${value}: lifetime must be positive`);
    return now + seconds;
  }
  if (/^\d+$/.test(value)) {
    const at = Number(value);
    if (at <= now) throw new Error(`--expires ${value} is a unix time in the past; for a lifetime add a unit, e.g. ${value}s`);
    return at;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value))) {
    const at = Math.floor(Date.parse(value) / 1000);
    if (at <= now) throw new Error(`--expires ${value} is in the past`);
    return at;
  }
  throw new Error(`--expires ${value}: expected a lifetime (90s, 30m, 1h, 7d, 2w), a unix time, an ISO date or "never"`);
}
