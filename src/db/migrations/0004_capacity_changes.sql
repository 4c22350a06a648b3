-- Capacity changes of two-part customers: suspension (暂停, the transformer sealed), temporary
-- swap (暂换, a smaller transformer for a while), and permanent increases or decreases. The
-- basic charge is pro-rated by days at each capacity: no charge on the sealing day, charged
-- again from the unsealing day (to_date is exclusive).
create table capacity_change (
  customer_id bigint not null references customer (customer_id),
  capacity_change_id bigint not null,
  kind text not null check (kind in ('suspension', 'temporary_swap', 'increase', 'decrease')),
  from_date date not null,
  to_date date,
  capacity_kva numeric(10, 2) not null check (capacity_kva >= 0),
  approved_by bigint,
  note text,
  created_at timestamptz not null default now(),
  primary key (customer_id, capacity_change_id),
  check (to_date is null or to_date > from_date)
);

create trigger capacity_change_append_only before update or delete on capacity_change for each statement execute function refuse_change();
