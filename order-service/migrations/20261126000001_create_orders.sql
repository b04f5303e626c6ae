-- Orders and their lines. `queued_at` stays NULL until the id is on the Redis queue;
-- the worker's sweep enqueues pending orders that never got there (Redis was down).
-- `attempts` counts how often a worker took the order, to give up on poison jobs.
CREATE TABLE orders (
    id              uuid PRIMARY KEY,
    user_id         uuid NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    total_cents     bigint NOT NULL,
    failure_reason  text,
    attempts        integer NOT NULL DEFAULT 0,
    queued_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz
);

CREATE INDEX orders_user_idx ON orders (user_id, created_at DESC);
CREATE INDEX orders_unqueued_idx ON orders (created_at) WHERE status = 'pending' AND queued_at IS NULL;

CREATE TABLE order_items (
    order_id          uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id        uuid NOT NULL,
    quantity          integer NOT NULL CHECK (quantity > 0),
    unit_price_cents  bigint NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

-- An Idempotency-Key claims an order id before any stock is reserved, so a repeated
-- request finds the same order instead of reserving again. The fingerprint refuses a
-- key reused for a different request.
CREATE TABLE idempotency_keys (
    key          text PRIMARY KEY,
    order_id     uuid NOT NULL,
    fingerprint  text NOT NULL,
    claimed_at   timestamptz NOT NULL DEFAULT now()
);
