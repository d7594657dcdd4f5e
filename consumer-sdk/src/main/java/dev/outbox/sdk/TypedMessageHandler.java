package dev.outbox.sdk;

import java.util.Map;

/** As {@link MessageHandler}, with the body bound to a type the caller names (a body that does not bind is dead-lettered). */
@FunctionalInterface
public interface TypedMessageHandler<T> {
    void handle(Map<String, Object> headers, T body) throws Exception;
}
