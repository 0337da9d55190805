import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { errorResponses } from '../rest/schemas.js';

/**
 * The web console: one HTML page, one JS module and one stylesheet, all served from files in
 * `api/console/static/`. Nothing comes from the internet, so it works on a closed network.
 *
 * The static files are not compiled, so `tsc` does not copy them to `dist/`. This module runs
 * either as `api/console/console-routes.ts` (tsx, vitest) or as
 * `dist/api/console/console-routes.js` (the built CLI); the first candidate that holds the page
 * wins, so both find the same files in the source tree without a copy step.
 */
function staticDir(): string {
  const candidates = [new URL('./static/', import.meta.url), new URL('../../../api/console/static/', import.meta.url)];
  for (const c of candidates) {
    const dir = fileURLToPath(c);
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error(`web console files not found (looked in ${candidates.map((c) => fileURLToPath(c)).join(', ')})`);
}

const FILES = [
  { route: '/', file: 'index.html', type: 'text/html; charset=utf-8', summary: 'The web console (HTML page)' },
  { route: '/console/console.js', file: 'console.js', type: 'text/javascript; charset=utf-8', summary: 'The web console\'s script' },
  { route: '/console/console.css', file: 'console.css', type: 'text/css; charset=utf-8', summary: 'The web console\'s stylesheet' },
] as const;

export function registerConsole(app: FastifyInstance): void {
  const dir = staticDir();
  // Read once at start: the files are small and fixed for the life of the process.
  for (const f of FILES) {
    const body = readFileSync(`${dir}${f.file}`);
    const mime = f.type.split(';')[0];
    app.get(
      f.route,
      {
        schema: {
          summary: f.summary,
          tags: ['console'],
          response: { 200: { description: f.summary, content: { [mime]: { schema: { type: 'string' } } } }, ...errorResponses() },
        },
      },
      // no-cache: revalidated on each load, so a restarted Sluice never serves a stale page.
      async (_req, reply) => reply.type(f.type).header('cache-control', 'no-cache').send(body),
    );
  }
}
