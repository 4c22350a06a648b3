-- Rebill (退补): a released bill is never edited. A request states the reason; a second person
-- approves it, which reverses the original release entry and issues the next revision.

create table rebill_request (
  customer_id bigint not null references customer (customer_id),
  rebill_request_id bigint not null,
  bill_id bigint not null,
  reason text not null check (length(reason) between 4 and 500),
  requested_by bigint,
  requested_at timestamptz not null default now(),
  primary key (customer_id, rebill_request_id),
  foreign key (customer_id, bill_id) references bill (customer_id, bill_id)
);

create table rebill_approval (
  customer_id bigint not null,
  rebill_request_id bigint not null,
  approved_by bigint not null,
  approved_at timestamptz not null default now(),
  reversal_entry_id bigint,
  new_bill_id bigint not null,
  primary key (customer_id, rebill_request_id),
  foreign key (customer_id, rebill_request_id) references rebill_request (customer_id, rebill_request_id)
);

create trigger rebill_request_append_only before update or delete on rebill_request for each statement execute function refuse_change();
create trigger rebill_approval_append_only before update or delete on rebill_approval for each statement execute function refuse_change();
