-- Products and their stock. The CHECK on stock is the last line of defence: the
-- reserve statement already refuses to go below zero.
CREATE TABLE products (
    id           uuid PRIMARY KEY,
    sku          text NOT NULL CONSTRAINT products_sku_key UNIQUE,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    category     text NOT NULL,
    price_cents  bigint NOT NULL CHECK (price_cents >= 0),
    stock        integer NOT NULL CONSTRAINT products_stock_nonnegative CHECK (stock >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX products_category_idx ON products (category, created_at, id);

-- What each order holds of each product. One row per (order, product) makes reserve and
-- release idempotent. A release of something never reserved leaves a row with quantity 0
-- already released, so a reserve that arrives late (a retried request) cannot take stock
-- for an order that has given up.
CREATE TABLE reservations (
    order_id          uuid NOT NULL,
    product_id        uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    quantity          integer NOT NULL CHECK (quantity >= 0),
    unit_price_cents  bigint NOT NULL,
    reserved_at       timestamptz NOT NULL DEFAULT now(),
    released_at       timestamptz,
    PRIMARY KEY (order_id, product_id)
);

CREATE INDEX reservations_product_idx ON reservations (product_id);
