-- A second reads file that disagrees with a read already accepted for the same meter and period
-- is not taken silently: each such read is kept here as a pending correction, not effective for
-- billing, under a holding read exception (code conflicting_read, conflicting_read-2 …) that a
-- billing checker resolves. Confirmed, the correction becomes a new meter read superseding the
-- accepted one; rejected, the accepted read stays. Append-only: the decision is the exception's
-- resolution, never an edit here.
create table read_correction (
  customer_id bigint not null,
  read_correction_id bigint not null,
  meter_id bigint not null,
  period text not null check (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  -- The read exception that holds it until a checker decides.
  exception_code text not null,
  read_on date not null,
  kind text not null check (kind in ('actual', 'estimated')),
  source text not null check (source in ('manual', 'handheld', 'ami')),
  total numeric(14, 2),
  sharp numeric(14, 2),
  peak numeric(14, 2),
  flat numeric(14, 2),
  valley numeric(14, 2),
  reactive numeric(14, 2),
  demand numeric(14, 2),
  read_by bigint,
  -- The accepted read it disagrees with.
  conflicts_with_read_id bigint not null,
  file_name text not null,
  line integer not null,
  import_key text not null,
  created_at timestamptz not null default now(),
  primary key (customer_id, read_correction_id),
  foreign key (customer_id, meter_id) references meter (customer_id, meter_id),
  foreign key (customer_id, conflicts_with_read_id) references meter_read (customer_id, meter_read_id),
  foreign key (customer_id, period, exception_code) references read_exception (customer_id, period, code),
  unique (customer_id, import_key)
);
create index read_correction_exception on read_correction (customer_id, period, exception_code);

create trigger read_correction_append_only before update or delete on read_correction for each statement execute function refuse_change();
create trigger read_correction_no_truncate before truncate on read_correction for each statement execute function refuse_change();

-- A checker may reject a conflicting read: the accepted read stays.
alter table read_exception_resolution drop constraint read_exception_resolution_resolution_check;
alter table read_exception_resolution add constraint read_exception_resolution_resolution_check
  check (resolution in ('confirmed', 'corrected', 'estimated', 'rejected'));
