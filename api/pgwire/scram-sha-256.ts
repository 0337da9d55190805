import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { SluiceError } from '../../core/errors.js';

const ITERATIONS = 4096;

interface Verifier {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

/**
 * SCRAM-SHA-256 (RFC 5802/7677) as Postgres uses it, server side. Verifiers are derived once per
 * user at start-up, as Postgres stores them, so a login costs two HMACs and the password is
 * never compared or kept in the clear past construction. Channel binding is not offered
 * (mechanism SCRAM-SHA-256 only; clients then send the `n,,` or `y,,` header).
 */
export class ScramSha256 {
  private readonly verifiers = new Map<string, Verifier>();
  /** An unknown user still gets a full exchange against a random verifier: no user probing. */
  private readonly decoy: Verifier;

  constructor(users: Readonly<Record<string, string>>) {
    for (const [user, password] of Object.entries(users)) this.verifiers.set(user, derive(password, randomBytes(16)));
    this.decoy = derive(randomBytes(24).toString('base64'), randomBytes(16));
  }

  /** Starts an exchange for `user` (the start-up message's user, which Postgres authenticates). */
  begin(user: string): ScramExchange {
    return new ScramExchange(this.verifiers.get(user) ?? this.decoy, this.verifiers.has(user));
  }
}

/** One login: client-first → server-first, client-final → server-final or failure. */
export class ScramExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';

  constructor(private readonly v: Verifier, private readonly known: boolean) {}

  /** Takes the client-first message; answers the server-first message. */
  first(clientFirst: string): string {
    const m = /^[nyp][^,]*,[^,]*,(n=[^,]*,r=([^,]+)(?:,.*)?)$/.exec(clientFirst);
    if (!m) throw protocol('malformed SCRAM client-first message');
    if (clientFirst.startsWith('p')) throw protocol('channel binding is not supported; connect with channel_binding=disable or prefer');
    this.clientFirstBare = m[1];
    this.nonce = m[2] + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.v.salt.toString('base64')},i=${ITERATIONS}`;
    return this.serverFirst;
  }

  /** Checks the client-final message's proof; answers the server-final message, or null when the password is wrong. */
  final(clientFinal: string): string | null {
    const m = /^(c=[^,]*,r=([^,]+)(?:,[^p][^,]*)*),p=([A-Za-z0-9+/=]+)$/.exec(clientFinal);
    if (!m) throw protocol('malformed SCRAM client-final message');
    if (m[2] !== this.nonce) throw protocol('SCRAM nonce mismatch');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${m[1]}`;
    const proof = Buffer.from(m[3], 'base64');
    const signature = hmac(this.v.storedKey, authMessage);
    if (proof.length !== signature.length) return null;
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ signature[i];
    if (!timingSafeEqual(sha256(clientKey), this.v.storedKey) || !this.known) return null;
    return `v=${hmac(this.v.serverKey, authMessage).toString('base64')}`;
  }
}

function derive(password: string, salt: Buffer): Verifier {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, ITERATIONS, 32, 'sha256');
  return { salt, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

function protocol(message: string): SluiceError {
  return new SluiceError('SLUICE_PGWIRE_PROTOCOL', message);
}
