import pg from 'pg';

export interface BenchOptions {
  readonly pgUrl: string;
  readonly mysqlUrl: string;
  readonly rows: number;
  readonly changes: number;
  readonly steadyRate: number;
  readonly steadySeconds: number;
  readonly dataDir: string;
  readonly keep: boolean;
}

/** Benchmarks report on stdout: their output is the product here, not a log. */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function rate(n: number, seconds: number): string {
  const r = n / seconds;
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function connectAdmin(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}
