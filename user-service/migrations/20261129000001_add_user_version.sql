-- A version per user, bumped by every change: the ETag of a user, the precondition of
-- a conditional PATCH, and what lets the cache refuse a value older than a write.
ALTER TABLE users ADD COLUMN version bigint NOT NULL DEFAULT 1;
