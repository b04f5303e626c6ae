-- A version per product, bumped by every change (stock included): the product's ETag,
-- the precondition of a conditional PATCH, and what lets the cache refuse a value
-- older than a write.
ALTER TABLE products ADD COLUMN version bigint NOT NULL DEFAULT 1;
