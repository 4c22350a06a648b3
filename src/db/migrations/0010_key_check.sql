-- The key check value of the field key (docs: README "Keys"): the constant "gridcollect key check"
-- encrypted under the key that encrypts every *_encrypted column, bound to this row. A process
-- started with another key fails before serving anything. While `gridcollect keys rotate` runs,
-- rotating_to_key_id names the new key (and rotating_check_value is the check under it); the
-- runtime refuses to start until the rotation is finished.
create table encryption_key_check (
  singleton boolean primary key default true check (singleton),
  key_id text not null,
  check_value text not null,
  rotating_to_key_id text,
  rotating_check_value text,
  updated_at timestamptz not null default now(),
  check ((rotating_to_key_id is null) = (rotating_check_value is null)),
  check (rotating_to_key_id is null or rotating_to_key_id <> key_id)
);
