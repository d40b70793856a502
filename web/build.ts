/** `npm run build:web`: rebuild the browser bundle now (the gateway also builds it on start when stale). */
import { ensureWebBundle } from '../src/http/web-bundle.ts';

const logger = {
  info: (_obj: object, msg?: string) => console.log(msg ?? ''),
  error: (_obj: object, msg?: string) => console.error(msg ?? ''),
};

ensureWebBundle({ logger, force: !process.argv.includes('--if-stale') }).then(
  (bundle) => console.log(bundle.built ? `web bundle in ${bundle.dir}` : `web bundle up to date in ${bundle.dir}`),
  () => process.exit(1),
);
