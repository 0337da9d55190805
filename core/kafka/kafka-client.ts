import { readFileSync } from 'node:fs';
import { Kafka, type KafkaConfig, type LogEntry, logLevel } from 'kafkajs';
import type { KafkaConnectionConfig } from '../config.js';
import { SluiceError, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';

type KafkaConnection = Readonly<KafkaConnectionConfig>;

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * A kafkajs client wired to Sluice's logger and configuration. kafkajs retries on its own with
 * backoff for transient broker trouble; its info chatter goes to debug so one line per notable
 * event stays true. SASL passwords never reach a log line or an error message.
 */
export function kafkaClient(c: KafkaConnection, logger: Logger, retries = 8): Kafka {
  const log = logger.child({ component: 'kafka' });
  const config: KafkaConfig = {
    clientId: c.clientId,
    brokers: [...c.brokers],
    connectionTimeout: c.connectionTimeoutMs,
    ssl: sslOptions(c.ssl),
    sasl: c.sasl ? ({ mechanism: c.sasl.mechanism, username: c.sasl.username, password: c.sasl.password } as KafkaConfig['sasl']) : undefined,
    retry: { initialRetryTime: 300, maxRetryTime: 30_000, retries },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const level = entry.level === logLevel.INFO ? 'debug' : (LEVELS[entry.level] ?? 'debug');
      const { message, ...fields } = entry.log;
      log[level]({ ...fields, namespace: entry.namespace }, message);
    },
  };
  return new Kafka(config);
}

/**
 * Start-up check: an admin connection and a metadata round trip, so a wrong address fails
 * `sluice run` at once with the brokers named, instead of retrying in the background.
 */
export async function assertReachable(c: KafkaConnection, logger: Logger, what: string): Promise<void> {
  // A client of its own with one retry: the long retry schedule is for later outages.
  const admin = kafkaClient(c, logger, 1).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (e) {
    throw new SluiceError('SLUICE_KAFKA_UNREACHABLE', `${what}: cannot reach Kafka at ${c.brokers.join(', ')}: ${messageOf(e)}`, { cause: e });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function sslOptions(ssl: KafkaConnection['ssl']): KafkaConfig['ssl'] {
  if (typeof ssl === 'boolean') return ssl;
  const read = (file: string | undefined, field: string): Buffer | undefined => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (e) {
      throw new SluiceError('SLUICE_KAFKA_CONFIG', `ssl.${field}: cannot read ${file}: ${messageOf(e)}`);
    }
  };
  return { ca: read(ssl.caFile, 'caFile'), cert: read(ssl.certFile, 'certFile'), key: read(ssl.keyFile, 'keyFile'), rejectUnauthorized: ssl.rejectUnauthorized };
}
