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

  SLUICE_STORE_APPLY: { status: 500, retriable: false },
  SLUICE_STORE_OPEN: { status: 500, retriable: false },

  SLUICE_QUERY_INVALID: { status: 400, retriable: false },
  SLUICE_QUERY_FORBIDDEN: { status: 403, retriable: false },
  SLUICE_QUERY_FAILED: { status: 400, retriable: false },
  SLUICE_QUERY_TIMEOUT: { status: 408, retriable: true },
  SLUICE_REQUEST_INVALID: { status: 400, retriable: false },
  SLUICE_NOT_FOUND: { status: 404, retriable: false },

  SLUICE_DEMO: { status: 500, retriable: false },
  SLUICE_INTERNAL: { status: 500, retriable: false },
} as const satisfies Record<string, { status: number; retriable: boolean }>;

export type ErrorCode = keyof typeof ErrorCodes;

export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SluiceError';
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.retriable = ErrorCodes[code].retriable;
  }
}

export function isSluiceError(e: unknown, code?: ErrorCode): e is SluiceError {
  return e instanceof SluiceError && (code === undefined || e.code === code);
}

/** Message of any thrown value, for wrapping foreign errors into a SluiceError. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
