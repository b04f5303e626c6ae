-- During a rolling deploy, replicas of the previous release still store lines without
-- a `state`, and only once every line is reserved: give those lines `reserved`. This
-- release always names the state it stores.
ALTER TABLE order_items ALTER COLUMN state SET DEFAULT 'reserved';
