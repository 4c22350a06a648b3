-- Billing: demand reads for two-part tariffs, contract demand, read exceptions and their
-- resolutions, and per-partition outcome counts for batch runs.

alter table meter_read add column demand numeric(12, 3) check (demand >= 0);
alter table customer add column contract_demand_kw numeric(10, 2) check (contract_demand_kw > 0);
alter table job_partition add column summary jsonb;
alter table bill add column funds_fen bigint not null default 0;

-- What read validation found for a customer and period. "hold" keeps the customer out of the
-- billing run until a billing checker resolves it; "warn" is billed and listed for review.
create table read_exception (
  customer_id bigint not null references customer (customer_id),
  period text not null check (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  code text not null,
  severity text not null check (severity in ('hold', 'warn')),
  detail jsonb not null default '{}'::jsonb,
  billing_run_key text not null,
  created_at timestamptz not null default now(),
  primary key (customer_id, period, code)
);
create index read_exception_period on read_exception (period, severity);

-- A checker's decision on an exception: confirm the read as right, correct it (a new read that
-- supersedes the old one) or estimate it by a stated method. Append-only.
create table read_exception_resolution (
  customer_id bigint not null,
  period text not null,
  code text not null,
  resolution text not null check (resolution in ('confirmed', 'corrected', 'estimated')),
  method text,
  note text,
  resolved_by bigint,
  resolved_at timestamptz not null default now(),
  primary key (customer_id, period, code),
  foreign key (customer_id, period, code) references read_exception (customer_id, period, code)
);

create trigger read_exception_resolution_append_only before update or delete on read_exception_resolution
  for each statement execute function refuse_change();

create index bill_period on bill (period, customer_id);

-- Corrections are rare: a partial index lets "is this read superseded?" be answered without
-- scanning the customer's reads.
create index meter_read_supersedes on meter_read (customer_id, supersedes_read_id) where supersedes_read_id is not null;
