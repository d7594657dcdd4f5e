package dev.outbox.relay.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outbox.sdk.deadletter.DeadLetter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/** Dead letters and actions as JSON: what the API answers and {@code dead-letters show} prints. */
public final class DeadLetterJson {

    static final ObjectMapper JSON = new ObjectMapper();

    private DeadLetterJson() {}

    /** Every field of one dead letter, its body as JSON when it is JSON, else as text or base64. */
    public static ObjectNode full(DeadLetter d) {
        ObjectNode out = JSON.createObjectNode();
        out.put("id", d.id())
                .put("status", d.status())
                .put("reason", d.reason())
                .put("queue", d.queue())
                .put("exchange", d.exchange())
                .put("routing_key", d.routingKey())
                .put("message_id", d.messageId())
                .put("retry_count", d.retryCount())
                .put("last_error", d.lastError())
                .put("dead_lettered_at", time(d.deadLetteredAt()))
                .put("captured_at", time(d.capturedAt()))
                .put("replayed_at", time(d.replayedAt()));
        out.set("properties", d.properties());
        out.set("headers", d.headers());
        if (d.bodyJson() != null) {
            out.set("body", d.bodyJson());
        } else {
            String text = utf8(d.body());
            if (text != null) {
                out.put("body_text", text);
            }
            out.put("body_base64", Base64.getEncoder().encodeToString(d.body()));
        }
        return out;
    }

    static ObjectNode summary(DeadLetterQueries.Summary s) {
        return JSON.createObjectNode()
                .put("id", s.id())
                .put("status", s.status())
                .put("reason", s.reason())
                .put("queue", s.queue())
                .put("routing_key", s.routingKey())
                .put("message_id", s.messageId())
                .put("last_error", s.lastError())
                .put("dead_lettered_at", time(s.deadLetteredAt()))
                .put("fingerprint", s.fingerprint());
    }

    static ObjectNode group(DeadLetterQueries.Group g) {
        return JSON.createObjectNode()
                .put("queue", g.queue())
                .put("reason", g.reason())
                .put("fingerprint", g.fingerprint())
                .put("count", g.count())
                .put("new", g.countNew())
                .put("first_seen", time(g.firstSeen()))
                .put("last_seen", time(g.lastSeen()))
                .put("sample_error", g.sampleError());
    }

    static ObjectNode audit(AuditLog.Entry e) {
        ObjectNode out = JSON.createObjectNode()
                .put("id", e.id())
                .put("at", time(e.at()))
                .put("actor", e.actor())
                .put("remote_address", e.remoteAddress())
                .put("action", e.action())
                .put("succeeded", e.succeeded())
                .put("refused", e.refused())
                .put("detail", e.detail());
        out.set("request", e.request());
        ArrayNode ids = out.putArray("dead_letter_ids");
        e.deadLetterIds().forEach(ids::add);
        return out;
    }

    public static ObjectNode outcome(DeadLetterActions.Outcome o) {
        ObjectNode out = JSON.createObjectNode()
                .put("action", o.action())
                .put("dry_run", o.dryRun())
                .put("matched", o.matched());
        if (o.maxId() != null) {
            out.put("max_id", o.maxId());
        }
        ArrayNode ids = out.putArray(o.dryRun() ? "first_ids" : "ids");
        o.ids().forEach(ids::add);
        if (!o.dryRun()) {
            out.put("succeeded", o.succeeded()).put("refused", o.refused());
            ArrayNode refusals = out.putArray("refusals");
            o.refusals().forEach(refusals::add);
            if (o.auditId() != null) {
                out.put("audit_id", o.auditId());
            }
        }
        if (o.note() != null) {
            out.put("note", o.note());
        }
        return out;
    }

    /** The bytes as text when they are valid UTF-8, else {@code null}. */
    static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    static String time(Instant t) {
        return t == null ? null : t.toString();
    }
}
