package dev.outbox.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.util.Map;

/**
 * Handles one message inside a database transaction: write with {@code connection} and do
 * not commit. The SDK records the message in the inbox in the same transaction, commits, and
 * only then acknowledges; a message already recorded is acknowledged without calling the
 * handler, so redelivered duplicates change nothing (effectively-once).
 */
@FunctionalInterface
public interface TransactionalHandler {
    void handle(Map<String, Object> headers, JsonNode body, Connection connection) throws Exception;
}
