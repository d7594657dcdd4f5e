package dev.outbox.relay.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** The {@code console_audit} table: every replay and discard, who asked for it and how it went. */
public final class AuditLog {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COLUMNS =
            "id, at, actor, remote_address, action, request::text, dead_letter_ids, succeeded, refused, detail";

    /** One recorded action. */
    public record Entry(
            long id,
            Instant at,
            String actor,
            String remoteAddress,
            String action,
            JsonNode request,
            List<Long> deadLetterIds,
            int succeeded,
            int refused,
            String detail) {}

    private final DataSource dataSource;

    public AuditLog(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Appends one action; returns its id. */
    public long record(
            String actor,
            String remoteAddress,
            String action,
            Map<String, Object> request,
            List<Long> ids,
            int succeeded,
            int refused,
            String detail)
            throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("INSERT INTO console_audit (actor, remote_address, action,"
                        + " request, dead_letter_ids, succeeded, refused, detail) VALUES (?, ?, ?, ?::jsonb, ?, ?, ?, ?)"
                        + " RETURNING id")) {
            ps.setString(1, actor);
            ps.setString(2, remoteAddress);
            ps.setString(3, action);
            ps.setString(4, JSON.writeValueAsString(request));
            ps.setArray(5, c.createArrayOf("bigint", ids.toArray()));
            ps.setInt(6, succeeded);
            ps.setInt(7, refused);
            ps.setString(8, detail);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("the request cannot be recorded as JSON", e);
        }
    }

    /** The newest entries first. */
    public List<Entry> recent(int limit) throws SQLException {
        return read("SELECT " + COLUMNS + " FROM console_audit ORDER BY id DESC LIMIT ?", limit);
    }

    /** The actions that took in one dead letter, newest first. */
    public List<Entry> forDeadLetter(long id) throws SQLException {
        return read(
                "SELECT " + COLUMNS + " FROM console_audit WHERE dead_letter_ids @> ARRAY[?]::bigint[]"
                        + " ORDER BY id DESC LIMIT 100",
                id);
    }

    private List<Entry> read(String sql, long arg) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                List<Entry> entries = new ArrayList<>();
                while (rs.next()) {
                    entries.add(new Entry(
                            rs.getLong(1),
                            rs.getTimestamp(2).toInstant(),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getString(5),
                            json(rs.getString(6)),
                            ids(rs.getArray(7)),
                            rs.getInt(8),
                            rs.getInt(9),
                            rs.getString(10)));
                }
                return entries;
            }
        }
    }

    private static List<Long> ids(Array array) throws SQLException {
        List<Long> ids = new ArrayList<>();
        for (Object o : (Object[]) array.getArray()) {
            ids.add(((Number) o).longValue());
        }
        return ids;
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            return JSON.getNodeFactory().textNode(text);
        }
    }
}
