/**
 * The first schema. Whole records are JSONB; the columns beside them are what
 * lists filter and order by. Times are epoch milliseconds, as in the records.
 */
export const sql = `
CREATE TABLE logs (
  seq bigserial PRIMARY KEY,
  log_id text NOT NULL UNIQUE,
  ability_id text NOT NULL,
  user_id text NOT NULL,
  created_at timestamptz NOT NULL,
  record jsonb NOT NULL
);
CREATE INDEX logs_ability ON logs (ability_id, seq);
CREATE INDEX logs_user ON logs (user_id, seq);
CREATE INDEX logs_created_at ON logs (created_at);

CREATE TABLE tasks (
  seq bigserial NOT NULL,
  id text PRIMARY KEY,
  user_id text NOT NULL,
  ability_id text NOT NULL,
  status text NOT NULL,
  attempts int NOT NULL,
  finished_at bigint,
  record jsonb NOT NULL
);
CREATE INDEX tasks_seq ON tasks (seq);
CREATE INDEX tasks_user ON tasks (user_id, seq);
CREATE INDEX tasks_ability ON tasks (ability_id, seq);
CREATE INDEX tasks_status ON tasks (status, seq);
CREATE INDEX tasks_unfinished ON tasks (seq) WHERE status NOT IN ('succeeded', 'failed', 'canceled');
CREATE INDEX tasks_ended ON tasks (finished_at) WHERE status IN ('succeeded', 'failed', 'canceled');

CREATE TABLE idempotency (
  scope text PRIMARY KEY,
  created_at bigint NOT NULL,
  record jsonb NOT NULL
);
CREATE INDEX idempotency_created_at ON idempotency (created_at);

CREATE TABLE outbox (
  id text PRIMARY KEY,
  status text NOT NULL,
  next_attempt_at bigint NOT NULL,
  created_at bigint NOT NULL,
  settled_at bigint,
  record jsonb NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, created_at) WHERE status = 'pending';
CREATE INDEX outbox_settled ON outbox (settled_at) WHERE status <> 'pending';

CREATE TABLE ledger_entries (
  seq bigserial NOT NULL UNIQUE,
  id text PRIMARY KEY,
  user_id text NOT NULL,
  kind text NOT NULL,
  points numeric NOT NULL,
  hold_key text,
  record jsonb NOT NULL
);
CREATE INDEX ledger_entries_user ON ledger_entries (user_id, seq);
CREATE INDEX ledger_entries_hold_key ON ledger_entries (hold_key) WHERE hold_key IS NOT NULL;

CREATE TABLE wallets (
  user_id text PRIMARY KEY,
  balance numeric NOT NULL DEFAULT 0,
  frozen numeric NOT NULL DEFAULT 0
);

CREATE TABLE open_holds (
  seq bigserial NOT NULL,
  hold_key text PRIMARY KEY,
  user_id text NOT NULL,
  points numeric NOT NULL,
  task_id text
);

CREATE TABLE jobs (
  seq bigserial NOT NULL,
  id text PRIMARY KEY,
  user_id text NOT NULL,
  project_id text,
  status text NOT NULL,
  consumed boolean NOT NULL,
  singleton_key text,
  finished_at bigint,
  record jsonb NOT NULL
);
CREATE INDEX jobs_seq ON jobs (seq);
CREATE INDEX jobs_user ON jobs (user_id, seq);
CREATE INDEX jobs_project ON jobs (project_id, seq) WHERE project_id IS NOT NULL;
CREATE INDEX jobs_active ON jobs (seq) WHERE NOT consumed;
CREATE INDEX jobs_unfinished ON jobs (seq) WHERE status NOT IN ('completed', 'failed', 'canceled');
CREATE INDEX jobs_singleton ON jobs (singleton_key) WHERE singleton_key IS NOT NULL;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE consumed;
`
