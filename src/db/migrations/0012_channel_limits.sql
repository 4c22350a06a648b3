-- Bounded channel input (go-live hardening): per channel, how far back a payment's paidAt may lie
-- and the largest amount one payment may carry. The database refuses settings the API could not
-- enforce (no window, no limit, a limit beyond what a payment may ever carry).
--
-- paid_at_window_days: the business days open to a channel's paidAt, today included (2: today
--   and yesterday, in the utility's time zone; a day whose reconciliation was accepted stays
--   closed regardless).
-- max_payment_fen: the largest amount of one payment in fen (default 1,000,000.00 yuan).
alter table channel
  add column paid_at_window_days integer not null default 2
    constraint channel_paid_at_window_days_check check (paid_at_window_days between 1 and 31),
  add column max_payment_fen bigint not null default 100000000
    constraint channel_max_payment_fen_check check (max_payment_fen between 1 and 99999999999999);
