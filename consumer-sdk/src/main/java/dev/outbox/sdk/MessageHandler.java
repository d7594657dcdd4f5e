package dev.outbox.sdk;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * Handles one message: {@code headers} holds the AMQP properties ({@code message-id},
 * {@code app-id}, {@code timestamp}, {@code routing-key}, {@code exchange},
 * {@code redelivered}, {@code content-type}) and the message's own headers; {@code body} is
 * the JSON. Return to acknowledge; throw {@link RetryException} to be called again later; any
 * other exception dead-letters the message at once (reason {@code rejected}).
 */
@FunctionalInterface
public interface MessageHandler {
    void handle(Map<String, Object> headers, JsonNode body) throws Exception;
}
