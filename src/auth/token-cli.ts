import { parseArgs } from 'node:util';
import { AuthError } from './errors.ts';
import { KeyLoadError, readKeySource } from './key-source.ts';
import { ALGORITHMS, loadSigningKey, publicJwk, type Algorithm } from './keys.ts';
import { parseExpiresAt } from './lifetime.ts';
import { generateKey, mintToken, type TokenRequest } from './mint.ts';

const TOKEN_HELP = `Usage: moq-gateway token --key <secret|jwk-file> [grants] [options]
       moq-gateway token --generate-key [--alg HS256|ES256] [--kid ID] > key.jwk
       moq-gateway token --public --key private.jwk > public.jwk

Mints a JWT for ?jwt= (MoQ), Authorization: Bearer (WHIP) or ?jwt= in an RTMP stream key.
Tokens are moq-token compatible: claims root, put, get, cluster, exp, iat.

Grants (paths are relative to --root, by whole segments; '' means all of the root):
  --root PATH         Root path of the grants (default '')
  --put PREFIX        May publish broadcasts under root/PREFIX (repeatable)
  --get PREFIX        May subscribe to broadcasts under root/PREFIX (repeatable)
  --cluster           The bearer is another gateway node

Options:
  --key SOURCE        HS256 secret (at least 32 bytes; base64url:<data> for encoded bytes),
                      or a JWK / JWK Set file (a private JWK for ES256)
  --expires WHEN      Lifetime 90s, 30m, 1h, 7d, 2w; a unix time; an ISO date; or never
                      (default never, with a warning)
  --alg ALG           HS256 or ES256: check the key's algorithm; with --generate-key, the kind of key
  --kid ID            Key id: names the key in the token header, picks one from a JWK Set
  --generate-key      Print a new private JWK (keep it secret: chmod 600)
  --public            Print the public JWK of an ES256 --key, for verifying nodes
  --help              Show this help

Example: moq-gateway token --key key.jwk --root live --put demo --get '' --expires 1h`;

export interface CliOutput {
  out(text: string): void;
  err(text: string): void;
}

const processOutput: CliOutput = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** `moq-gateway token …`; returns the exit code (0 ok, 1 key or signing failure, 2 usage error). */
export async function runTokenCli(argv: string[], io: CliOutput = processOutput): Promise<number> {
  let values: ReturnType<typeof parseTokenArgs>;
  try {
    values = parseTokenArgs(argv);
  } catch (error) {
    return usage(io, (error as Error).message);
  }
  if (values.help) {
    io.out(`${TOKEN_HELP}\n`);
    return 0;
  }
  const alg = values.alg?.toUpperCase();
  if (alg !== undefined && !(ALGORITHMS as readonly string[]).includes(alg)) return usage(io, `--alg ${values.alg}: expected ${ALGORITHMS.join(' or ')}`);

  try {
    if (values['generate-key']) {
      io.out(`${JSON.stringify(await generateKey((alg as Algorithm | undefined) ?? 'HS256', values.kid), null, 2)}\n`);
      return 0;
    }
    if (values.key === undefined) return usage(io, '--key is required (a secret or a JWK file); make one with --generate-key');
    if (values.public) {
      const material = await readKeySource(values.key);
      if (material.kind === 'secret') return usage(io, '--public needs a JWK file: a shared secret has no public half');
      const keys = material.keys.map(publicJwk);
      io.out(`${JSON.stringify(keys.length === 1 ? keys[0] : { keys }, null, 2)}\n`);
      return 0;
    }
    if (values.put === undefined && values.get === undefined) return usage(io, 'grant something: --put PREFIX and/or --get PREFIX');

    const request: TokenRequest = { root: values.root, cluster: values.cluster };
    if (values.put !== undefined) request.put = single(values.put);
    if (values.get !== undefined) request.get = single(values.get);
    const now = Date.now();
    let expiresAt: number | undefined;
    try {
      expiresAt = values.expires === undefined ? undefined : parseExpiresAt(values.expires, now);
    } catch (error) {
      return usage(io, (error as Error).message);
    }
    if (expiresAt !== undefined) request.expiresAt = expiresAt;

    const options: { alg?: Algorithm; kid?: string } = {};
    if (alg !== undefined) options.alg = alg as Algorithm;
    if (values.kid !== undefined) options.kid = values.kid;
    const key = await loadSigningKey(values.key, options);
    if (expiresAt === undefined) io.err('warning: this token never expires; pass --expires to limit it\n');
    io.out(`${await mintToken(key, request, now)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof KeyLoadError || error instanceof AuthError) {
      io.err(`error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/** One prefix is written as a plain string, as moq-token does; several as a list. */
function single(prefixes: string[]): string | string[] {
  return prefixes.length === 1 ? prefixes[0]! : prefixes;
}

function usage(io: CliOutput, message: string): number {
  io.err(`${message}\n\nRun "moq-gateway token --help" for the options.\n`);
  return 2;
}

/** The token subcommand's flags; throws on an unknown or malformed one. */
function parseTokenArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      key: { type: 'string' },
      root: { type: 'string', default: '' },
      put: { type: 'string', multiple: true },
      get: { type: 'string', multiple: true },
      cluster: { type: 'boolean', default: false },
      expires: { type: 'string' },
      alg: { type: 'string' },
      kid: { type: 'string' },
      'generate-key': { type: 'boolean', default: false },
      public: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }).values;
}
