import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SluiceError } from '../../core/errors.js';

/** Routes anyone may call: a load balancer's health check carries no credentials. */
const OPEN = new Set(['/health']);

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * HTTP Basic authentication on every route but /health, when `api.auth.users` is set. Passwords
 * are compared as SHA-256 digests in constant time, and an unknown user costs the same as a
 * wrong password. A failure is 401 with a WWW-Authenticate challenge (browsers then ask, so the
 * console works); the password never reaches a log line or an error message.
 */
export function registerBasicAuth(app: FastifyInstance, users: Readonly<Record<string, string>>): void {
  const expected = new Map(Object.entries(users).map(([u, p]) => [u, digest(p)]));
  const decoy = digest(`decoy:${Math.random()}`);
  app.addHook('onRequest', async (req, reply) => {
    if (OPEN.has(req.url.split('?')[0])) return;
    const header = req.headers.authorization;
    reply.header('WWW-Authenticate', 'Basic realm="sluice", charset="UTF-8"');
    if (!header || !/^Basic\s+/i.test(header)) throw new SluiceError('SLUICE_AUTH_REQUIRED', 'authentication required: send HTTP Basic credentials');
    const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const given = digest(colon < 0 ? '' : decoded.slice(colon + 1));
    const want = expected.get(user);
    if (!timingSafeEqual(given, want ?? decoy) || !want) throw new SluiceError('SLUICE_AUTH_FAILED', `wrong user name or password (user "${user}")`);
    reply.removeHeader('WWW-Authenticate');
  });
}
