package dev.outbox.db;

import java.sql.Connection;

/**
 * Work done on one connection inside one transaction, typically "save the entity, append
 * the event". Runs under {@link Outbox#inTransaction}: commit when it returns, rollback when
 * it throws.
 */
@FunctionalInterface
public interface TransactionalWork<T> {
    T run(Connection connection) throws Exception;
}
