#!/usr/bin/env node
// `npx moq-gateway`: runs the TypeScript entry point in this process through tsx's loader, so
// signals reach the gateway itself (a child process would be orphaned when this one is killed).
import { register } from 'tsx/esm/api';

register();
await import('../app/cli.ts');
