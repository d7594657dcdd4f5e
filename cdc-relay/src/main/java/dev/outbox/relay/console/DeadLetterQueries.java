package dev.outbox.relay.console;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/** The console's reads of {@code dead_letters}: pages of rows, groups, counts and the ids a bulk action takes. */
public final class DeadLetterQueries {

    /**
     * An error's fingerprint: the first line of {@code last_error} (exception class and message)
     * with what varies from one message to the next replaced (UUIDs, quoted text, long hex,
     * numbers), so one cause makes one group. Dead letters without an error group by reason.
     */
    static final String FINGERPRINT = "CASE WHEN coalesce(last_error, '') = '' THEN '(no error: ' || reason || ')'"
            + " ELSE left(regexp_replace(regexp_replace(regexp_replace(regexp_replace("
            + "split_part(last_error, E'\\n', 1),"
            + " '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>', 'g'),"
            + " '''[^'']*''|\"[^\"]*\"', '<text>', 'g'),"
            + " '[0-9a-fA-F]{16,}', '<hex>', 'g'),"
            + " '[0-9]+', '<n>', 'g'), 300) END";

    private static final String WHEN = "coalesce(dead_lettered_at, captured_at)";
    private static final String SUMMARY_COLUMNS =
            "id, status, reason, queue, routing_key, message_id, last_error, " + WHEN + ", " + FINGERPRINT;

    /** One line of the list. */
    public record Summary(
            long id,
            String status,
            String reason,
            String queue,
            String routingKey,
            String messageId,
            String lastError,
            Instant deadLetteredAt,
            String fingerprint) {}

    /** Dead letters of one queue, reason and fingerprint. */
    public record Group(
            String queue,
            String reason,
            String fingerprint,
            long count,
            long countNew,
            Instant firstSeen,
            Instant lastSeen,
            String sampleError) {}

    private final DataSource dataSource;

    public DeadLetterQueries(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Newest first, at most {@code filter.limit()}. */
    public List<Summary> list(DeadLetterFilter filter) throws SQLException {
        List<Object> args = new ArrayList<>();
        String sql = "SELECT " + SUMMARY_COLUMNS + " FROM dead_letters" + where(filter, args)
                + " ORDER BY id DESC LIMIT " + filter.limit();
        return query(sql, args, DeadLetterQueries::summary);
    }

    /** The lines of {@code ids}, in their order; ids without a row are left out. */
    public List<Summary> summaries(List<Long> ids) throws SQLException {
        Map<Long, Summary> byId = new LinkedHashMap<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("SELECT " + SUMMARY_COLUMNS + " FROM dead_letters WHERE id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byId.put(rs.getLong(1), summary(rs));
                }
            }
        }
        List<Summary> ordered = new ArrayList<>();
        for (long id : ids) {
            if (byId.containsKey(id)) {
                ordered.add(byId.get(id));
            }
        }
        return ordered;
    }

    private static Summary summary(ResultSet rs) throws SQLException {
        return new Summary(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getString(6),
                rs.getString(7),
                instant(rs.getTimestamp(8)),
                rs.getString(9));
    }

    /** Groups by queue, reason and fingerprint, largest first, at most 200. */
    public List<Group> groups(DeadLetterFilter filter) throws SQLException {
        List<Object> args = new ArrayList<>();
        String sql = "SELECT queue, reason, fp, count(*), count(*) FILTER (WHERE status = 'new'), min(t), max(t),"
                + " (array_agg(last_error ORDER BY id DESC))[1] FROM (SELECT id, queue, reason, status, last_error, "
                + WHEN + " AS t, " + FINGERPRINT + " AS fp FROM dead_letters" + where(filter, args) + ") d"
                + " GROUP BY queue, reason, fp ORDER BY count(*) DESC, max(t) DESC LIMIT 200";
        return query(
                sql,
                args,
                rs -> new Group(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getLong(4),
                        rs.getLong(5),
                        instant(rs.getTimestamp(6)),
                        instant(rs.getTimestamp(7)),
                        rs.getString(8)));
    }

    public long count(DeadLetterFilter filter) throws SQLException {
        List<Object> args = new ArrayList<>();
        return query("SELECT count(*) FROM dead_letters" + where(filter, args), args, rs -> rs.getLong(1))
                .get(0);
    }

    /** Ids of the matching rows, oldest first, at most {@code cap}: what a bulk action works through. */
    public List<Long> ids(DeadLetterFilter filter, int cap) throws SQLException {
        List<Object> args = new ArrayList<>();
        return query(
                "SELECT id FROM dead_letters" + where(filter, args) + " ORDER BY id LIMIT " + cap,
                args,
                rs -> rs.getLong(1));
    }

    /** The largest matching id, or {@code null} when nothing matches. */
    public Long maxId(DeadLetterFilter filter) throws SQLException {
        List<Object> args = new ArrayList<>();
        return query("SELECT max(id) FROM dead_letters" + where(filter, args), args, rs -> (Long) rs.getObject(1))
                .get(0);
    }

    /** Rows per status, every status present (0 when none). */
    public Map<String, Long> countByStatus() throws SQLException {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String status : DeadLetterFilter.STATUSES) {
            counts.put(status, 0L);
        }
        query("SELECT status, count(*) FROM dead_letters GROUP BY status", List.of(), rs -> {
            counts.put(rs.getString(1), rs.getLong(2));
            return null;
        });
        return counts;
    }

    /** {@code new} rows per {@code [queue, reason]}, the largest 500. */
    public Map<List<String>, Long> newByQueueAndReason() throws SQLException {
        Map<List<String>, Long> counts = new LinkedHashMap<>();
        query(
                "SELECT queue, reason, count(*) FROM dead_letters WHERE status = 'new' GROUP BY queue, reason"
                        + " ORDER BY count(*) DESC LIMIT 500",
                List.of(),
                rs -> {
                    counts.put(java.util.Arrays.asList(rs.getString(1), rs.getString(2)), rs.getLong(3));
                    return null;
                });
        return counts;
    }

    /** Statuses of the given ids; ids without a row are absent. */
    public Map<Long, String> statuses(List<Long> ids) throws SQLException {
        Map<Long, String> result = new LinkedHashMap<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT id, status FROM dead_letters WHERE id = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    result.put(rs.getLong(1), rs.getString(2));
                }
            }
        }
        return result;
    }

    /** The fingerprint of one row, for the link from a message to its group. */
    public String fingerprint(long id) throws SQLException {
        List<String> fp =
                query("SELECT " + FINGERPRINT + " FROM dead_letters WHERE id = ?", List.of(id), rs -> rs.getString(1));
        return fp.isEmpty() ? null : fp.get(0);
    }

    private static String where(DeadLetterFilter f, List<Object> args) {
        StringBuilder sql = new StringBuilder(" WHERE true");
        condition(sql, args, "queue = ?", f.queue());
        condition(sql, args, "reason = ?", f.reason());
        condition(sql, args, "status = ?", f.status());
        if (f.routingKey() != null) {
            if (f.routingKey().contains("*")) {
                String like = f.routingKey()
                        .replace("\\", "\\\\")
                        .replace("%", "\\%")
                        .replace("_", "\\_")
                        .replace('*', '%');
                condition(sql, args, "routing_key LIKE ?", like);
            } else {
                condition(sql, args, "routing_key = ?", f.routingKey());
            }
        }
        condition(sql, args, FINGERPRINT + " = ?", f.fingerprint());
        condition(sql, args, WHEN + " >= ?", f.since() == null ? null : Timestamp.from(f.since()));
        condition(sql, args, WHEN + " < ?", f.until() == null ? null : Timestamp.from(f.until()));
        condition(sql, args, "id <= ?", f.maxId());
        return sql.toString();
    }

    private static void condition(StringBuilder sql, List<Object> args, String clause, Object value) {
        if (value != null) {
            sql.append(" AND ").append(clause);
            args.add(value);
        }
    }

    private interface Row<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private <T> List<T> query(String sql, List<Object> args, Row<T> row) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                List<T> result = new ArrayList<>();
                while (rs.next()) {
                    result.add(row.read(rs));
                }
                return result;
            }
        }
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }
}
