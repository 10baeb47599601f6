/**
 * Several nodes on one database: the columns a claim filters and orders by,
 * the leases of running calls (a task's attempt or a sync call), the nodes
 * alive, and the shared replay log of client events.
 */
export const sql = `
ALTER TABLE tasks
  ADD COLUMN executor_id text,
  ADD COLUMN priority int NOT NULL DEFAULT 0,
  ADD COLUMN run_after bigint NOT NULL DEFAULT 0;
UPDATE tasks SET
  executor_id = record->>'executorId',
  priority = COALESCE((record->>'priority')::int, 0),
  run_after = COALESCE(ceil((record->>'runAfter')::numeric)::bigint, 0);
ALTER TABLE tasks ALTER COLUMN executor_id SET NOT NULL;
CREATE INDEX tasks_ready ON tasks (executor_id, priority DESC, seq) WHERE status = 'queued';

CREATE TABLE leases (
  holder text PRIMARY KEY,
  node_id text NOT NULL,
  executor_id text NOT NULL,
  task_id text,
  expires_at timestamptz NOT NULL
);
CREATE INDEX leases_node ON leases (node_id);
CREATE INDEX leases_executor ON leases (executor_id, expires_at);

CREATE TABLE nodes (
  node_id text PRIMARY KEY,
  seen_at timestamptz NOT NULL
);

CREATE TABLE events (
  id bigserial PRIMARY KEY,
  user_id text NOT NULL,
  type text NOT NULL,
  payload jsonb,
  at bigint NOT NULL
);
CREATE INDEX events_at ON events (at);
`
