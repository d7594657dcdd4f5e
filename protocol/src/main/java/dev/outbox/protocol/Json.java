package dev.outbox.protocol;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Turns what callers give as a payload into validated JSON text. Errors never quote the payload. */
final class Json {

    static final ObjectMapper DEFAULT_MAPPER =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {}

    /**
     * A {@link String} is taken as JSON text and validated; a {@link JsonNode} is written as is;
     * anything else is serialised by {@code mapper}. JSON {@code null} is refused: an event
     * without a body is almost always a bug, and the {@code events} table refuses it too.
     */
    static String toJsonText(Object payload, ObjectMapper mapper) {
        if (payload == null) {
            throw new InvalidEventException(
                    "payload is required (was null); send an empty object {} for an event without data");
        }
        if (payload instanceof String text) {
            JsonNode parsed = parse(text, mapper);
            rejectNull(parsed);
            return text;
        }
        if (payload instanceof JsonNode node) {
            rejectNull(node);
            return node.toString();
        }
        try {
            String text = mapper.writeValueAsString(payload);
            if ("null".equals(text)) {
                rejectNull(null);
            }
            return text;
        } catch (JsonProcessingException e) {
            throw new InvalidEventException(
                    "payload of type " + payload.getClass().getName() + " does not serialise to JSON: "
                            + e.getOriginalMessage(),
                    e);
        }
    }

    static JsonNode parse(String text, ObjectMapper mapper) {
        try {
            JsonNode node = mapper.readTree(text);
            if (node == null || node.isMissingNode()) {
                throw new InvalidEventException("payload is not valid JSON: it is empty");
            }
            return node;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            // The parser's own message quotes the offending text, which is payload: name only the place.
            throw new InvalidEventException(
                    "payload is not valid JSON: " + e.getClass().getSimpleName() + where);
        }
    }

    private static void rejectNull(JsonNode node) {
        if (node == null || node.isNull()) {
            throw new InvalidEventException(
                    "payload must not be JSON null; send an empty object {} for an event without data");
        }
    }
}
