-- Real staff accounts: installation settings (the demo marker), login throttling, session
-- channels, and the channel and OS user of every audit row.

-- Installation-wide settings, one row per key. The demo county writes ("demo", true) in the
-- transaction that creates its staff; a database without that row is a real installation.
create table installation_setting (
  key text primary key check (key ~ '^[a-z][a-z0-9_.]*$'),
  value jsonb not null,
  updated_at timestamptz not null default now()
);

-- Failed logins per key ("login:<login>" or "address:<client address>"), persisted so that the
-- delay holds across restarts and server processes. A success clears its login's row; an
-- address's row is forgotten an hour after its last failure.
create table login_throttle (
  throttle_key text primary key,
  failures integer not null check (failures >= 0),
  last_failure_at timestamptz not null,
  locked_until timestamptz
);

-- Staff added by an administrator take ids from here, far above the ids of a generated county.
create sequence staff_id_seq start with 1000001;

alter table staff add column password_changed_at timestamptz;

-- A session is opened by the API (the web UI, scripts) or by the CLI for an OS user.
alter table staff_session add column channel text not null default 'api' check (channel in ('api', 'cli'));
alter table staff_session add column os_user text;

-- Where an audited action came from, and for the CLI the OS user who ran it. Older rows keep null.
alter table audit_log add column channel text check (channel in ('cli', 'api', 'channel', 'job'));
alter table audit_log add column os_user text;
