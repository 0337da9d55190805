import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, startSluice, tempDir } from './helpers/sluice.js';

// Debian's chromium, driven by playwright-core: test tools cannot download browsers here.
// scripts/prepare-services.sh installs it (its `chromium` step).
const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
const DB = 'sluice_t_console';

describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('web console in headless Chromium', () => {
  let sl: TestSluice;
  let browser: BrowserContext;
  let page: Page;
  let profile: string;
  let url: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    url = await freshDatabase(DB);
    const c = await connectPg(url);
    await c.query(`CREATE TABLE orders (id int PRIMARY KEY, customer_id int, region text NOT NULL, amount numeric(10,2))`);
    await c.query(`INSERT INTO orders SELECT g, 1 + g % 7, (ARRAY['north','south','east'])[1 + g % 3], g * 2.5 FROM generate_series(1, 30) g`);
    await c.query(`CREATE TABLE customers (id int PRIMARY KEY, name text)`);
    await c.query(`INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 7) g`);
    await c.end();
    // Two models, one reading the other, so the DAG has two levels.
    const dir = tempDir('console');
    const models = join(dir, 'models');
    mkdirSync(models);
    writeFileSync(join(models, 'enriched.sql'), `{{ config(materialized='incremental', unique_key='id') }}
select o.id, o.region, o.amount, c.name as customer
from {{ source('console', 'orders') }} o left join {{ source('console', 'customers') }} c on c.id = o.customer_id`);
    writeFileSync(join(models, 'by_region.sql'), `{{ config(materialized='aggregate') }}
select region, count(*) as orders, sum(amount) as revenue from {{ ref('enriched') }} group by region`);
    // The source name names its replication slot, which is cluster-wide: unique among the tests.
    sl = await startSluice({ name: 'console', kind: 'postgres', url, tables: ['orders', 'customers'] }, dir, { models });
    await waitFor('snapshot', async () =>
      (await sl.query('SELECT (SELECT count(*) FROM console.orders) + (SELECT count(*) FROM console.customers)'))[0][0] === 37);

    profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
    // The background-networking flags keep Chromium from calling home: this network is closed.
    // A persistent context is how playwright takes a user-data dir: a fresh, empty one per run.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync',
      ],
      viewport: { width: 1280, height: 1400 },
      timeout: 60_000,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    // The console must be fully offline: any request that leaves this Sluice is a failure.
    await page.route('**/*', (route) => (route.request().url().startsWith(sl.http) ? route.continue() : route.abort()));
    page.on('requestfailed', (r) => pageErrors.push(`request failed: ${r.url()}`));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await sl?.stop();
    await dropDatabase(DB);
  });

  it('shows the source and its tables with row counts', async () => {
    await page.goto(`${sl.http}/`);
    await expect.poll(() => page.title()).toBe('Sluice console');
    const source = page.locator('#sources tr[data-source="console"]');
    await source.waitFor();
    expect(await source.locator('td').nth(1).textContent()).toBe('postgres');
    await expect.poll(() => source.locator('.badge').textContent(), { timeout: 20_000 }).toBe('streaming');

    const orders = page.locator('#tables tr[data-table="console.orders"] td.rows');
    const customers = page.locator('#tables tr[data-table="console.customers"] td.rows');
    await orders.waitFor();
    expect(await orders.textContent()).toBe('30');
    expect(await customers.textContent()).toBe('7');
    expect(await page.locator('#conn').getAttribute('data-state')).toBe('ok');

    // Changes streamed after the snapshot: row counts follow, and events/s (log offsets between
    // two polls, computed in the page) shows them.
    const c = await connectPg(url);
    for (let i = 8; i <= 12; i++) await c.query(`INSERT INTO customers VALUES ($1::int, 'customer ' || $1::text)`, [i]);
    await c.end();
    await expect.poll(() => customers.textContent(), { timeout: 20_000 }).toBe('12');
    const rate = source.locator('td').nth(5);
    await expect.poll(async () => Number((await rate.textContent())?.replace(/,/g, '')) > 0, { timeout: 20_000 }).toBe(true);

    // The model DAG: the aggregate sits one level right of the model it reads.
    const byRegion = page.locator('[data-model="models.by_region"]');
    await byRegion.waitFor();
    await expect.poll(() => byRegion.locator('.badge').textContent()).toBe('current');
    expect(await byRegion.locator('.deps').allTextContents()).toEqual(['aggregate · 3 rows · lag 0 ms', '← models.enriched']);
    expect(await page.locator('.dag .layer').evaluateAll((ls) => ls.map((l) => l.querySelector('h3')?.textContent)))
      .toEqual(['inputs', 'level 1', 'level 2']);
    expect(await page.locator('.dag .layer:nth-child(3) [data-model]').getAttribute('data-model')).toBe('models.by_region');

    // The charts draw once history exists (after the first poll).
    await page.locator('#chart-freshness polyline').first().waitFor({ state: 'attached' });
  });

  it('runs a query typed in the editor and shows its rows as a table and a chart', async () => {
    await page.locator('#sql').fill(
      'SELECT region, count(*) AS orders, sum(amount) AS total FROM console.orders GROUP BY region ORDER BY region',
    );
    await page.locator('#sql').press('Control+Enter');
    await page.locator('#result tbody tr').first().waitFor();
    const cells = await page.locator('#result tbody tr').evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(cells).toEqual([
      ['east', '10', '387.50'],
      ['north', '10', '412.50'],
      ['south', '10', '362.50'],
    ]);
    expect(await page.locator('#result thead th').allTextContents()).toEqual(['region', 'orders', 'total']);
    expect(await page.locator('#query-status').textContent()).toMatch(/^3 rows/);
    // A label column and a numeric one: a bar per region.
    expect(await page.locator('#result-chart').isHidden()).toBe(false);
    expect(await page.locator('#result-chart rect').count()).toBe(3);

    await page.screenshot({ path: join(tmpdir(), 'sluice-console.png'), fullPage: true });
  });

  it('shows the API\'s error for bad SQL, and the Run button works too', async () => {
    await page.locator('#sql').fill('SELECT nope FROM console.orders');
    await page.locator('#run').click();
    const err = page.locator('#query-error');
    await err.waitFor({ state: 'visible' });
    expect(await err.textContent()).toMatch(/^SLUICE_QUERY_\w+\n[\s\S]*"nope" not found/);
    expect(await page.locator('#result tr').count()).toBe(0);

    await page.locator('#sql').fill('SELECT id, name FROM console.customers ORDER BY id LIMIT 2');
    await page.locator('#run').click();
    await err.waitFor({ state: 'hidden' });
    await expect.poll(() => page.locator('#result tbody tr').allTextContents()).toEqual(['1customer 1', '2customer 2']);
  });

  it('loaded without script errors or requests leaving the server', () => {
    expect(pageErrors).toEqual([]);
  });
});
