CREATE TABLE orders (
    id       uuid PRIMARY KEY,
    customer text   NOT NULL,
    cents    bigint NOT NULL CHECK (cents > 0)
);
CREATE TABLE invoices (
    order_id uuid PRIMARY KEY REFERENCES orders (id),
    cents    bigint NOT NULL
);
