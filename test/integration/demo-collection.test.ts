import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixedClock } from '../../src/adapters/clock/system-clock.js';
import { fileCodec } from '../../src/adapters/files/file-codec.js';
import { cashOnHand } from '../../src/app/cash-deposits.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { channelSettlement } from '../../src/app/queries/channel-settlement.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import type { LocalDate } from '../../src/domain/local-date.js';
import { billDemoHistory } from '../../src/jobs/demo/bill-demo-history.js';
import { DEMO_PLATFORM } from '../../src/jobs/demo/collect-demo-payments.js';
import { type TestDatabase, createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo, testCipher } from '../support/demo.js';

const clock = fixedClock(new Date('2026-11-27T02:00:00Z'), 'Asia/Shanghai');

describeEachDatabase('the demo county collects its bills', (kind) => {
  let database: TestDatabase;
  let summary: Awaited<ReturnType<typeof billDemoHistory>>;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db, { months: 6 });
    summary = await billDemoHistory(database.db, {
      concurrency: 1,
      worker: 'test',
      collect: {
        context: {
          encrypt: testCipher.encrypt,
          decrypt: testCipher.decrypt,
          codec: fileCodec,
          today: '2026-11-27' as LocalDate,
          seed: 3,
        },
        clock,
      },
    });
  });
  afterAll(() => database?.close());

  it('pays through every channel, leaves the habitual late payers in arrears, and the books agree', async () => {
    expect(summary.payments).toBeGreaterThan(2000);
    expect(summary.withheld).toBeGreaterThan(100);
    const byChannel = await sql<{ channel_code: string; n: number }>`
      select channel_code, count(*)::int as n from payment group by 1 order by 1`.execute(database.db);
    const channels = new Map(byChannel.rows.map((row) => [row.channel_code, row.n]));
    for (const code of ['counter', 'collector', DEMO_PLATFORM.code])
      expect(channels.get(code), code).toBeGreaterThan(50);
    expect([...channels.keys()].some((code) => ['ICBC', 'ABC', 'CCB', 'BOC', 'RCC'].includes(code))).toBe(
      true,
    );
    // Chronic payers owe more than on-time payers.
    const owed = await sql<{ payment_behaviour: string; owed: number }>`
      select h.payment_behaviour, avg(coalesce(p.owed, 0))::float8 as owed from demo_customer_behaviour h
      left join (select customer_id, sum(amount_fen) as owed from posting where ledger_account_code = 'customer_receivable' group by 1) p
        on p.customer_id = h.customer_id
      group by 1`.execute(database.db);
    const avg = new Map(owed.rows.map((row) => [row.payment_behaviour, Number(row.owed)]));
    expect(avg.get('chronic_arrears')!).toBeGreaterThan(avg.get('on_time')!);
    const days = await channelSettlement(database.db, CLI_PRINCIPAL, {
      channelCode: DEMO_PLATFORM.code,
      from: '2026-01-01' as LocalDate,
      to: '2026-11-27' as LocalDate,
    });
    expect(days.length).toBeGreaterThan(20);
    expect(days.every((day) => day.agrees && day.reconciliation === 'accepted')).toBe(true);
    // Collectors and cashiers deposited their cash; whoever keeps some back is flagged.
    const slips = await sql<{ n: number }>`select count(*)::int as n from cash_deposit`.execute(database.db);
    expect(slips.rows[0]!.n).toBeGreaterThan(50);
    // Staff who deposit the same day hold no cash past its deadline.
    const holders = await cashOnHand(database.db, CLI_PRINCIPAL, '2026-11-27' as LocalDate);
    const prompt = await sql<{
      login: string;
    }>`select s.login from demo_staff_behaviour b join staff s on s.staff_id = b.staff_id
      where b.deposit_delay_days = 0 and not b.laps_cash`.execute(database.db);
    expect(prompt.rows.length).toBeGreaterThan(5);
    for (const { login } of prompt.rows) {
      const row = holders.find((holder) => holder.staffLogin === login);
      if (row) expect([login, row.overdue], login).toEqual([login, '0.00']);
    }
    expect((await verifyLedger(database.db)).problems).toEqual([]);
    // Running the history again changes nothing.
    const again = await billDemoHistory(database.db, { concurrency: 1, worker: 'test' });
    expect(again.alreadyDone).toBe(true);
  });
});
