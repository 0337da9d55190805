import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * `sluice run` as a child process, over a config file written here with a free REST port: a
 * crash cannot take the test runner with it, and it can be killed, stopped and started again.
 */
export class SluiceProcess {
  child: ChildProcess | null = null;
  /** What the current child wrote to stderr: its log lines. */
  stderr = '';

  private constructor(
    private readonly file: string,
    readonly http: string,
  ) {}

  /** Writes `config` to `file`, its `api.port` set to a free port and `api.pgPort` to 0 unless given. */
  static async configure(file: string, config: Record<string, unknown>): Promise<SluiceProcess> {
    const port = await freePort();
    writeFileSync(file, JSON.stringify({ ...config, api: { pgPort: 0, ...(config.api as object | undefined), port } }));
    return new SluiceProcess(file, `http://127.0.0.1:${port}`);
  }

  start(): ChildProcess {
    this.stderr = '';
    const c = spawn(process.execPath, [MAIN, 'run', '--config', this.file], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d) => (this.stderr += d));
    this.child = c;
    return c;
  }

  /** Signals the current child and waits until it has exited. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const c = this.child;
    if (!c) return;
    this.child = null;
    const exited = c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  }

  /** The first source's entry of GET /v1/sources; undefined while the API does not answer. */
  async status<T = { state: string }>(): Promise<T | undefined> {
    const res = await fetch(`${this.http}/v1/sources`).catch(() => null);
    return res?.ok ? ((await res.json()) as { sources: T[] }).sources[0] : undefined;
  }

  /** Rows of `sql` through REST; throws, with the status and the message, when it fails. */
  async query(sql: string): Promise<unknown[][]> {
    const res = await fetch(`${this.http}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql }) });
    const body = (await res.json()) as { rows?: unknown[][]; error?: { message: string } };
    if (!res.ok) throw new Error(`query failed (${res.status}): ${body.error?.message}`);
    return body.rows!;
  }
}
