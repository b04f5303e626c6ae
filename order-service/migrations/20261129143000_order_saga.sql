-- The order saga (issue 11). An order is stored, status `reserving`, with its lines
-- before the first reservation, and each line records how far it got, so that a
-- request that dies midway leaves a row the reconciler can finish or compensate.
--
-- Orders: `reserving` joins the statuses. `failure_kind` says which step failed (the
-- API replays the same answer for an Idempotency-Key from it); `stock_released_at`
-- is set once every line of a failed order has been given back to the catalog, so a
-- failed order still holding stock is one where it is NULL. Orders that failed before
-- this migration (MAX_ATTEMPTS) never released their stock: leaving the column NULL
-- for them makes the reconciler release it now.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('reserving', 'pending', 'completed', 'failed'));
ALTER TABLE orders ADD COLUMN failure_kind text;
ALTER TABLE orders ADD COLUMN stock_released_at timestamptz;

-- The reconciler's three scans. `updated_at` is the saga's heartbeat and the
-- reconciler's lease; `queued_at` is when the order was last seen on the queue.
CREATE INDEX orders_reserving_idx ON orders (updated_at) WHERE status = 'reserving';
CREATE INDEX orders_unreleased_idx ON orders (updated_at) WHERE status = 'failed' AND stock_released_at IS NULL;
CREATE INDEX orders_pending_idx ON orders (coalesce(queued_at, updated_at)) WHERE status = 'pending';
DROP INDEX orders_unqueued_idx;

-- Lines: `state` is the saga state of the line (`to_reserve` is written before the
-- reserve call, so a crash after the catalog applied it is still released); the unit
-- price is known only once reserved. Existing lines were all reserved when stored.
ALTER TABLE order_items ALTER COLUMN unit_price_cents DROP NOT NULL;
ALTER TABLE order_items ADD COLUMN line_no integer;
ALTER TABLE order_items ADD COLUMN state text NOT NULL DEFAULT 'reserved'
    CONSTRAINT order_items_state_check CHECK (state IN ('to_reserve', 'reserved', 'released'));
ALTER TABLE order_items ALTER COLUMN state DROP DEFAULT;
