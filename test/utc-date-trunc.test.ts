import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { UTC_DATE_TRUNC_MACRO } from '../olap/query/utc-date-trunc.js';

describe('date_trunc fast path for TIMESTAMPTZ', () => {
  it('answers exactly as the built-in for every part, every argument type, infinities and NULL', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`SET TimeZone = 'UTC'`);
    await c.run(UTC_DATE_TRUNC_MACRO);
    await c.run(`CREATE TABLE v AS SELECT timestamptz '1969-12-31 23:59:59.5+00' + i * INTERVAL 7777777 second + i * INTERVAL 123457 microsecond AS ts
      FROM range(-3000, 3000) t(i) UNION ALL SELECT * FROM (VALUES ('infinity'::TIMESTAMPTZ), ('-infinity'), (NULL), ('2000-02-29 12:00:00+00'))`);
    const parts = ['microseconds', 'milliseconds', 'second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year', 'decade', 'century', 'millennium'];
    for (const part of parts) {
      const r = await c.runAndReadAll(`SELECT
          count(*) FILTER (WHERE date_trunc('${part}', ts) IS DISTINCT FROM system.main.date_trunc('${part}', ts)),
          count(*) FILTER (WHERE date_trunc('${part}', ts::TIMESTAMP) IS DISTINCT FROM system.main.date_trunc('${part}', ts::TIMESTAMP)),
          count(*) FILTER (WHERE date_trunc('${part}', ts::DATE) IS DISTINCT FROM system.main.date_trunc('${part}', ts::DATE)),
          typeof(any_value(date_trunc('${part}', ts))),
          typeof(any_value(date_trunc('${part}', ts::DATE))) = typeof(any_value(system.main.date_trunc('${part}', ts::DATE)))
        FROM v`);
      expect([part, ...r.getRowsJson()[0]]).toEqual([part, '0', '0', '0', 'TIMESTAMP WITH TIME ZONE', true]);
    }
    const iv = await c.runAndReadAll(`SELECT date_trunc('hour', INTERVAL '3 days 5 hours 7 minutes')::VARCHAR`);
    expect(iv.getRowsJson()).toEqual([['3 days 05:00:00']]);
    c.closeSync();
  });
});
