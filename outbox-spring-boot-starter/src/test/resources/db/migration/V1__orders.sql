-- The test application's own schema, applied by Spring Boot's Flyway beside the outbox's.
CREATE TABLE orders (id text PRIMARY KEY, customer text NOT NULL, cents int NOT NULL);
CREATE TABLE ledger (order_id text NOT NULL);
