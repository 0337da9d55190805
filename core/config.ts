import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SluiceError, messageOf } from './errors.js';
import { DEFAULT_STALL_TIMEOUT_MS } from './stall-watchdog.js';

const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier ([a-z_][a-z0-9_]*)');

/**
 * A replication connection silent this long is given up and reopened: a stalled peer (a dead NAT
 * entry, a frozen server) keeps the socket open, so nothing else would notice. The server is
 * asked to send a heartbeat at least every half of it.
 */
const stallTimeoutMs = z.number().int().min(1000).default(DEFAULT_STALL_TIMEOUT_MS);

const postgresSource = z
  .object({
    name: identifier,
    kind: z.literal('postgres'),
    url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
    tables: z
      .array(z.string().regex(/^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?$/, 'must be "schema.table" or "table"'))
      .min(1, 'list at least one table'),
    slot: identifier.optional(),
    publication: identifier.optional(),
    /** What to do when the server has invalidated the slot (wal_status = lost). */
    onSlotLost: z.enum(['fail', 'resnapshot']).default('fail'),
    /** Only apply this source's Kafka log, written by another Sluice: a query replica. */
    follow: z.boolean().default(false),
    stallTimeoutMs,
  })
  .strict();

const mysqlSource = z
  .object({
    name: identifier,
    kind: z.literal('mysql'),
    url: z.string().regex(/^(mysql|mariadb):\/\/[^/]+\/[^/?]+/, 'must be a mysql://user:pass@host:port/database URL'),
    tables: z
      .array(z.string().regex(/^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*)?$/, 'must be "table" or "database.table"'))
      .min(1, 'list at least one table'),
    /** Replica server id this connection uses; must differ from every server and replica. */
    serverId: z.number().int().min(1).max(4294967295).optional(),
    /** What to do when the binlog to resume from has been purged. */
    onBinlogPurged: z.enum(['fail', 'resnapshot']).default('fail'),
    /** Only apply this source's Kafka log, written by another Sluice: a query replica. */
    follow: z.boolean().default(false),
    stallTimeoutMs,
  })
  .strict();

/** How to reach a Kafka (or Redpanda) cluster: shared by the Kafka log and Debezium sources. */
const kafkaConnection = {
  brokers: z.array(z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be "host:port"')).min(1, 'list at least one broker'),
  clientId: z.string().min(1).default('sluice'),
  /** true: TLS with the system's CAs; or PEM files for a private CA and client certificates. */
  ssl: z
    .union([
      z.boolean(),
      z.object({ caFile: z.string().optional(), certFile: z.string().optional(), keyFile: z.string().optional(), rejectUnauthorized: z.boolean().default(true) }).strict(),
    ])
    .default(false),
  sasl: z
    .object({ mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']), username: z.string().min(1), password: z.string() })
    .strict()
    .optional(),
  connectionTimeoutMs: z.number().int().positive().default(5_000),
};

const debeziumKafkaSource = z
  .object({
    name: identifier,
    kind: z.literal('debezium-kafka'),
    ...kafkaConnection,
    /** Debezium's data topics, e.g. "dbserver1.inventory.customers". */
    topics: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a Kafka topic name')).min(1, 'list at least one topic'),
    /** Consumer group; Sluice keeps its own offsets in the log, the group is for monitoring. */
    group: z.string().min(1).optional(),
    /** Only apply this source's Kafka log, written by another Sluice: a query replica. */
    follow: z.boolean().default(false),
  })
  .strict();

const source = z.discriminatedUnion('kind', [postgresSource, mysqlSource, debeziumKafkaSource]);

const embeddedLog = z
  .object({
    kind: z.literal('embedded'),
    dir: z.string().min(1).default('./data/log'),
    segmentBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
    fsync: z.enum(['always', 'interval', 'never']).default('always'),
    fsyncIntervalMs: z.number().int().positive().default(200),
    retentionBytes: z.number().int().positive().nullable().default(null),
    retentionMs: z.number().int().positive().nullable().default(null),
  })
  .strict();

const kafkaLog = z
  .object({
    kind: z.literal('kafka'),
    ...kafkaConnection,
    /** Topics are `<prefix>.<source>.<schema>.<table>` (Debezium's naming) plus `<prefix>.<source>.log`. */
    topicPrefix: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('sluice'),
    /** Replication factor for topics Sluice creates; -1 takes the broker's default. */
    replicationFactor: z.number().int().min(-1).default(-1),
    retentionMs: z.number().int().positive().nullable().default(null),
  })
  .strict();

const configSchema = z
  .object({
    sources: z.array(source).min(1, 'configure at least one source'),
    log: z.discriminatedUnion('kind', [embeddedLog, kafkaLog]).prefault({ kind: 'embedded' }),
    /** Folder of `<name>.sql` model files, each kept current as table `models.<name>`. */
    models: z.string().min(1).nullable().default(null),
    store: z
      .object({
        path: z.string().min(1).default('./data/store.duckdb'),
        threads: z.number().int().positive().optional(),
        memoryLimit: z.string().regex(/^\d+(\.\d+)?\s*[KMGT]i?B$/i, 'e.g. "2GB"').optional(),
      })
      .strict()
      .prefault({}),
    pipeline: z
      .object({
        /** Log bytes per store transaction (a source transaction is never split across two). */
        maxBatchBytes: z.number().int().min(1024).default(64 * 1024 * 1024),
        /**
         * Log bytes a source may be ahead of the store before its connector stops reading and
         * the source database holds the changes instead (see BacklogGate).
         */
        maxBacklogBytes: z.number().int().min(1024 * 1024).default(1024 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    api: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        pgPort: z.number().int().min(0).max(65535).default(6875),
        queryTimeoutMs: z.number().int().positive().default(30_000),
        maxRows: z.number().int().positive().default(100_000),
        /** PEM files for the Postgres protocol's TLS; without them SSLRequest is answered 'N'. */
        tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).strict().nullable().default(null),
        /** Turns on authentication on both doors: HTTP Basic for REST, SCRAM-SHA-256 for Postgres clients. */
        auth: z
          .object({
            users: z
              .record(z.string().regex(/^[^:\s]+$/, 'user names have no colon or space'), z.string().min(1, 'empty passwords are refused'))
              .refine((u) => Object.keys(u).length > 0, 'list at least one user'),
          })
          .strict()
          .nullable()
          .default(null),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.sources.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${s.name}"` });
      seen.add(s.name);
      if (s.follow && cfg.log.kind !== 'kafka') {
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'follow'], message: 'following needs a shared log: set log.kind to "kafka"' });
      }
      if (['main', 'models', 'sluice', 'memory', 'pg_catalog', 'information_schema', 'system', 'temp'].includes(s.name) || s.name.startsWith('_sluice')) {
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `"${s.name}" is reserved` });
      }
    });
  });

export type SluiceConfig = z.output<typeof configSchema>;
export type SourceConfig = SluiceConfig['sources'][number];
export type PostgresSourceConfig = z.output<typeof postgresSource>;
export type MysqlSourceConfig = z.output<typeof mysqlSource>;
export type DebeziumKafkaSourceConfig = z.output<typeof debeziumKafkaSource>;
export type KafkaLogConfig = z.output<typeof kafkaLog>;
export type EmbeddedLogConfig = z.output<typeof embeddedLog>;
/** How to reach a Kafka cluster, as the log and the Debezium source both configure it. */
export type KafkaConnectionConfig = Pick<KafkaLogConfig, 'brokers' | 'clientId' | 'ssl' | 'sasl' | 'connectionTimeoutMs'>;

/** `sources[0].url` style path, as users see it in their file. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return 'required';
  if (issue.code === 'unrecognized_keys') return `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}

/**
 * Validates a parsed config object. Relative paths are resolved against `baseDir` (the config
 * file's folder) so that the process's working directory does not change where data lives.
 */
export function validateConfig(raw: unknown, baseDir = process.cwd()): Readonly<SluiceConfig> {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${formatPath(i.path)}: ${describeIssue(i)}`);
    throw new SluiceError('SLUICE_CONFIG_INVALID', `invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const cfg = result.data;
  if (cfg.log.kind === 'embedded') cfg.log.dir = resolve(baseDir, cfg.log.dir);
  else resolveSslFiles(cfg.log.ssl, baseDir);
  for (const s of cfg.sources) if (s.kind === 'debezium-kafka') resolveSslFiles(s.ssl, baseDir);
  if (cfg.api.tls) cfg.api.tls = { certFile: resolve(baseDir, cfg.api.tls.certFile), keyFile: resolve(baseDir, cfg.api.tls.keyFile) };
  cfg.store.path = resolve(baseDir, cfg.store.path);
  if (cfg.models) cfg.models = resolve(baseDir, cfg.models);
  return deepFreeze(cfg);
}

function resolveSslFiles(ssl: KafkaConnectionConfig['ssl'], baseDir: string): void {
  if (typeof ssl === 'boolean') return;
  for (const k of ['caFile', 'certFile', 'keyFile'] as const) if (ssl[k]) ssl[k] = resolve(baseDir, ssl[k]);
}

export function loadConfigFile(file: string): Readonly<SluiceConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SluiceError('SLUICE_CONFIG_UNREADABLE', `cannot read config file ${file}: ${messageOf(e)}`);
  }
  let raw: unknown;
  try {
    raw = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new SluiceError('SLUICE_CONFIG_UNREADABLE', `config file ${file} is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${messageOf(e)}`);
  }
  return validateConfig(raw, dirname(resolve(file)));
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
