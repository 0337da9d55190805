/**
 * The one registry of Sluice error codes. Every error that leaves a module is a SluiceError
 * carrying one of these codes; callers branch on `code` (never on message text), the HTTP
 * layer takes its status from here, and `retriable` tells a supervisor whether trying again
 * can help (as kafkajs does).
 */
export const ErrorCodes = {
  SLUICE_CONFIG_INVALID: { status: 500, retriable: false },
  SLUICE_CONFIG_UNREADABLE: { status: 500, retriable: false },

  SLUICE_LOG_CORRUPT: { status: 500, retriable: false },
  SLUICE_LOG_CLOSED: { status: 500, retriable: false },
  SLUICE_LOG_IO: { status: 500, retriable: true },
  SLUICE_LOG_OFFSET_OUT_OF_RANGE: { status: 500, retriable: false },
  SLUICE_LOG_RECORD_INVALID: { status: 500, retriable: false },

  SLUICE_PG_CONNECT: { status: 503, retriable: true },
  SLUICE_PG_NOT_LOGICAL: { status: 500, retriable: false },
  SLUICE_PG_TABLE_MISSING: { status: 500, retriable: false },
  SLUICE_PG_NO_REPLICA_IDENTITY: { status: 500, retriable: false },
  SLUICE_PG_SLOT_LOST: { status: 500, retriable: false },
  SLUICE_PG_PROTOCOL: { status: 500, retriable: true },
  SLUICE_PG_STREAM: { status: 503, retriable: true },

  SLUICE_MYSQL_CONNECT: { status: 503, retriable: true },
  SLUICE_MYSQL_BINLOG_CONFIG: { status: 500, retriable: false },
  SLUICE_MYSQL_BINLOG_PURGED: { status: 500, retriable: false },
  SLUICE_MYSQL_TABLE_MISSING: { status: 500, retriable: false },
  SLUICE_MYSQL_STREAM: { status: 503, retriable: true },

  SLUICE_KAFKA_UNREACHABLE: { status: 503, retriable: true },
  SLUICE_KAFKA_LOG: { status: 500, retriable: true },
  SLUICE_KAFKA_CONFIG: { status: 500, retriable: false },

  // A Kafka message that is not a Debezium message Sluice can read; names topic/partition@offset and the field.
  SLUICE_DEBEZIUM_MESSAGE: { status: 500, retriable: false },

  // The disk under the log or the store has no room left; names the path. Nothing half-written
  // is kept, and Sluice carries on by itself once space is freed.
  SLUICE_DISK_FULL: { status: 507, retriable: true },

  SLUICE_STORE_APPLY: { status: 500, retriable: false },
  // The pipeline was stopped while it waited for the rest of a transaction written in pieces.
  SLUICE_PIPELINE_STOPPED: { status: 503, retriable: true },
  SLUICE_STORE_OPEN: { status: 500, retriable: false },

  // sqlState: what the Postgres-protocol door answers for the same error.
  SLUICE_QUERY_INVALID: { status: 400, retriable: false, sqlState: '42601' },
  SLUICE_QUERY_UNDEFINED: { status: 400, retriable: false, sqlState: '42P01' },
  SLUICE_QUERY_BIND: { status: 400, retriable: false, sqlState: '42703' },
  SLUICE_QUERY_FORBIDDEN: { status: 403, retriable: false, sqlState: '42501' },
  SLUICE_QUERY_FAILED: { status: 400, retriable: false, sqlState: '22000' },
  SLUICE_QUERY_TIMEOUT: { status: 408, retriable: true, sqlState: '57014' },
  SLUICE_QUERY_CANCELLED: { status: 499, retriable: true, sqlState: '57014' },
  SLUICE_QUERY_MEMORY_LIMIT: { status: 507, retriable: false, sqlState: '53200' },
  SLUICE_REQUEST_INVALID: { status: 400, retriable: false },
  SLUICE_AUTH_REQUIRED: { status: 401, retriable: false, sqlState: '28000' },
  SLUICE_AUTH_FAILED: { status: 401, retriable: false, sqlState: '28P01' },
  SLUICE_NOT_ACCEPTABLE: { status: 406, retriable: false },
  SLUICE_NOT_FOUND: { status: 404, retriable: false },

  SLUICE_PGWIRE_PROTOCOL: { status: 400, retriable: false, sqlState: '08P01' },
  SLUICE_PGWIRE_UNSUPPORTED: { status: 400, retriable: false, sqlState: '0A000' },
  SLUICE_PGWIRE_PORTAL: { status: 400, retriable: false, sqlState: '34000' },
  SLUICE_PGWIRE_STATEMENT: { status: 400, retriable: false, sqlState: '26000' },
  SLUICE_PGWIRE_PARAMETER: { status: 400, retriable: false, sqlState: '22P02' },
  SLUICE_PGWIRE_TXN_ABORTED: { status: 400, retriable: false, sqlState: '25P02' },
  SLUICE_PGWIRE_TLS: { status: 500, retriable: false },
  SLUICE_API_LISTEN: { status: 500, retriable: false },

  SLUICE_DEMO: { status: 500, retriable: false },
  SLUICE_INTERNAL: { status: 500, retriable: false },
} as const satisfies Record<string, { status: number; retriable: boolean; sqlState?: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  /** SQLSTATE for the Postgres protocol; XX000 (internal_error) unless the registry says. */
  readonly sqlState: string;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SluiceError';
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.retriable = ErrorCodes[code].retriable;
    const entry = ErrorCodes[code];
    this.sqlState = 'sqlState' in entry ? entry.sqlState : 'XX000';
  }
}

export function isSluiceError(e: unknown, code?: ErrorCode): e is SluiceError {
  return e instanceof SluiceError && (code === undefined || e.code === code);
}

/** Message of any thrown value, for wrapping foreign errors into a SluiceError. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
