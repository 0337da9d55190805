import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChangeRecord } from './change-record.js';
import type { SourceState } from './source.js';

/** Which door a query came in through. */
export type QueryDoor = 'rest' | 'pgwire';

/** What the query doors need of the metrics: one call per finished query. */
export interface QueryObserver {
  observeQuery(door: QueryDoor, seconds: number, ok: boolean): void;
}

/** One source as a scrape sees it; read from the pipelines, logs and store at scrape time. */
export interface SourceSample {
  readonly name: string;
  readonly state: SourceState;
  /** Source commit -> applied, as /v1/sources computes lagMs (0 when caught up). */
  readonly lagMs: number;
  readonly logEndOffset: number;
  readonly appliedOffset: number;
  readonly logBytes: number;
}

/** Where the scrape-time gauges come from. */
export interface MetricsProbe {
  sources(): Promise<readonly SourceSample[]>;
  /** The store's files on disk (database + WAL). */
  storeBytes(): number;
}

// A Record, so adding a state to SourceState fails to compile until it is listed here: every
// state is exported (0 or 1) so `sluice_source_state{state="failed"} == 1` works as an alert.
const STATES: Record<SourceState, true> = { starting: true, snapshotting: true, streaming: true, reconnecting: true, failed: true, stopped: true };

/**
 * Sluice's Prometheus metrics, all named `sluice_*`, in a registry of their own (not prom-client's
 * global one) so that several apps can live in one process, as they do in the tests.
 * Event-driven figures (batches, freshness, queries) are observed as they happen; figures that
 * are cheap to read (offsets, lag, sizes, state) are read from a probe once per scrape.
 */
export class Metrics implements QueryObserver {
  readonly registry = new Registry();
  private readonly changesApplied: Counter<'source'>;
  private readonly applyBatch: Histogram<'source'>;
  private readonly freshness: Histogram<'source'>;
  private readonly query: Histogram<'door' | 'outcome'>;
  /** The probe's answer for the scrape in progress: the gauges' collect() callbacks read it. */
  private sample: readonly SourceSample[] = [];
  private storeSize = 0;

  constructor(private readonly probe: MetricsProbe) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
    this.changesApplied = new Counter({
      name: 'sluice_source_changes_applied_total',
      help: 'Row changes (snapshot rows included) committed to the store; rate() is events/s',
      labelNames: ['source'],
      registers,
    });
    this.applyBatch = new Histogram({
      name: 'sluice_apply_batch_seconds',
      help: 'Store commit of one batch of log records (apply + checkpoint in one transaction)',
      labelNames: ['source'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.freshness = new Histogram({
      name: 'sluice_freshness_seconds',
      help: 'Source commit time to visible in the store, per streamed source transaction',
      labelNames: ['source'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.query = new Histogram({
      name: 'sluice_query_seconds',
      help: 'Query time, from the request to the last row handed to the client',
      labelNames: ['door', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const perSource = (name: string, help: string, value: (s: SourceSample) => number): void => {
      const sample = () => this.sample;
      new Gauge({
        name, help, labelNames: ['source'], registers,
        collect() {
          this.reset();
          for (const s of sample()) this.set({ source: s.name }, value(s));
        },
      });
    };
    perSource('sluice_source_lag_seconds', 'Source commit to applied in the store, 0 when caught up', (s) => s.lagMs / 1000);
    perSource('sluice_source_log_end_offset', 'Offset the next record appended to the source\'s log gets', (s) => s.logEndOffset);
    perSource('sluice_source_applied_offset', 'Log offset up to which the store has committed', (s) => s.appliedOffset);
    perSource('sluice_log_bytes', 'The source\'s log on disk', (s) => s.logBytes);
    const sample = () => this.sample;
    new Gauge({
      name: 'sluice_source_state', help: 'The source\'s state: 1 for the current one, 0 for the others', labelNames: ['source', 'state'], registers,
      collect() {
        this.reset();
        for (const s of sample()) for (const state of Object.keys(STATES)) this.set({ source: s.name, state }, s.state === state ? 1 : 0);
      },
    });
    const storeSize = () => this.storeSize;
    new Gauge({ name: 'sluice_store_bytes', help: 'The DuckDB store on disk: database file + WAL', registers, collect() { this.set(storeSize()); } });
  }

  /** Called by a pipeline after each store commit (see SourcePipeline.onApplied). */
  observeBatch(source: string, records: readonly ChangeRecord[], visibleAtMs: number, applyMs: number): void {
    this.applyBatch.observe({ source }, applyMs / 1000);
    let changes = 0;
    for (const r of records) {
      const h = r.header;
      if (h.kind !== 'changes') continue;
      for (const p of h.parts) if (p.kind === 'rows' || p.kind === 'patch') changes += p.rows;
      // Snapshot chunks carry no commit time: only streamed transactions have a freshness.
      // Clamped: the source's clock may run ahead of this machine's.
      if (h.position) this.freshness.observe({ source }, Math.max(0, visibleAtMs - h.position.tsMs) / 1000);
    }
    if (changes > 0) this.changesApplied.inc({ source }, changes);
  }

  observeQuery(door: QueryDoor, seconds: number, ok: boolean): void {
    this.query.observe({ door, outcome: ok ? 'ok' : 'error' }, seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text. The probe is asked once per scrape, not once per gauge. */
  async render(): Promise<string> {
    this.sample = await this.probe.sources();
    this.storeSize = this.probe.storeBytes();
    return this.registry.metrics();
  }
}
