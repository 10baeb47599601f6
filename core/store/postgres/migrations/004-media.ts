/**
 * Result media (and large task inputs) in the database, so a media link works on
 * every node and a task accepted on one node finds its inputs on another.
 */
export const sql = `
CREATE TABLE media (
  key text PRIMARY KEY,
  mime_type text NOT NULL,
  bytes bytea NOT NULL,
  stored_at bigint NOT NULL
);
-- images, video and audio come compressed: not worth another try
ALTER TABLE media ALTER COLUMN bytes SET STORAGE EXTERNAL;
CREATE INDEX media_stored_at ON media (stored_at);
`
