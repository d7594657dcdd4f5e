package dev.outbox.relay.engine;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outbox.protocol.Headers;
import dev.outbox.protocol.OutgoingMessage;
import io.debezium.connector.postgresql.connection.pgoutput.PgOutputMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Turns Debezium change records of the {@code events} table into messages. Inserts (and
 * snapshot reads) become messages; updates, deletes, heartbeats and anything else are
 * skipped, so applications may update or delete old rows freely.
 */
public final class EventRecords {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final String eventsTopic;

    /** @param topicPrefix Debezium's {@code topic.prefix}; @param schema the events table's schema */
    public EventRecords(String topicPrefix, String schema) {
        this.eventsTopic = topicPrefix + "." + schema + ".events";
    }

    /** The message for {@code record}, or {@code null} when it is not an inserted event. */
    public OutgoingMessage toMessage(SourceRecord record) {
        if (!eventsTopic.equals(record.topic()) || !(record.value() instanceof Struct envelope)) {
            return null;
        }
        String op = envelope.getString("op");
        if (!"c".equals(op) && !"r".equals(op)) {
            return null;
        }
        Struct row = envelope.getStruct("after");
        if (row == null) {
            return null;
        }
        long id = row.getInt64("id");
        String payload = row.getString("payload");
        String headersJson = row.getString("headers");
        int oversize = Math.max(
                PgOutputMessageDecoder.oversizeLength(payload), PgOutputMessageDecoder.oversizeLength(headersJson));
        if (oversize >= 0) {
            // Not read (see PgOutputMessageDecoder.OVERSIZE_BYTES): an empty body and the size it had, which the
            // publisher sets aside as relay_error; no row has an empty payload, so nothing else looks like this.
            return new OutgoingMessage(
                    row.getString("message_id"),
                    row.getString("routing_key"),
                    new byte[0],
                    Map.of(Headers.BODY_OMITTED_BYTES, Integer.toString(oversize)),
                    id,
                    row.getString("aggregate_type"),
                    row.getString("aggregate_id"),
                    createdAt(row, record));
        }
        return new OutgoingMessage(
                row.getString("message_id"),
                row.getString("routing_key"),
                payload.getBytes(StandardCharsets.UTF_8),
                headers(headersJson),
                id,
                row.getString("aggregate_type"),
                row.getString("aggregate_id"),
                createdAt(row, record));
    }

    /** created_at as {@link CreatedAtConverter} hands it over; the commit time where it could not. */
    private static Instant createdAt(Struct row, SourceRecord record) {
        Long micros = row.getInt64(CreatedAtConverter.COLUMN);
        return micros != null ? CreatedAtConverter.toInstant(micros) : Instant.ofEpochMilli(commitTimeMillis(record));
    }

    /** The message for one {@code events} row read with JDBC (for republish), same as from the WAL. */
    public static OutgoingMessage fromRow(
            long id,
            String messageId,
            String routingKey,
            String payload,
            String headersJson,
            String aggregateType,
            String aggregateId,
            Instant createdAt) {
        return new OutgoingMessage(
                messageId,
                routingKey,
                payload.getBytes(StandardCharsets.UTF_8),
                headers(headersJson),
                id,
                aggregateType,
                aggregateId,
                createdAt);
    }

    /** Commit time of the transaction that wrote the record (source.ts_ms), for lag metrics; 0 when unknown. */
    public static long commitTimeMillis(SourceRecord record) {
        if (record.value() instanceof Struct envelope && envelope.schema().field("source") != null) {
            Struct source = envelope.getStruct("source");
            if (source != null && source.schema().field("ts_ms") != null) {
                Long ts = source.getInt64("ts_ms");
                return ts == null ? 0 : ts;
            }
        }
        return 0;
    }

    /**
     * The row's headers object as a map. Read token by token rather than as a tree: this runs
     * for every event, and the tree was a large part of the publishing thread in a drain (docs/decisions/002-per-event-patches.md).
     */
    static Map<String, String> headers(String json) {
        if (json == null || json.isEmpty() || "{}".equals(json)) {
            return Map.of();
        }
        try (JsonParser parser = JSON.createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return Map.of();
            }
            Map<String, String> headers = new LinkedHashMap<>();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                // The table's constraint keeps values strings; a writer that dropped it still gets its value, as JSON
                // text.
                headers.put(
                        name,
                        parser.nextToken() == JsonToken.VALUE_STRING
                                ? parser.getText()
                                : JSON.readTree(parser).toString());
            }
            return headers;
        } catch (Exception e) {
            return Map.of();
        }
    }
}
