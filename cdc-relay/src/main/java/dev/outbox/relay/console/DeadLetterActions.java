package dev.outbox.relay.console;

import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.deadletter.DeadLetters;
import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replay and discard, of given ids or of every {@code new} dead letter a filter matches, with a
 * dry run that says how many and which, and an audit entry for every action taken. The rules of
 * one replay or discard are the SDK's {@link DeadLetters}; this class adds the bulk, the dry run
 * and the record. Shared by the console, its API and the CLI. Thread-safe.
 */
public final class DeadLetterActions implements AutoCloseable {

    /** Most dead letters one action takes; a larger backlog is worked through by repeating it. */
    public static final int MAX_PER_ACTION = 10_000;

    static final int LISTED = 100;
    private static final int REFUSALS_KEPT = 1_000;
    private static final int REFUSALS_AUDITED = 20;
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterActions.class);

    /** Who asks: a user name, {@code token} or {@code cli:<os user>}, and where from. */
    public record Actor(String name, String remoteAddress) {}

    /**
     * What to act on: {@code ids}, or when that is {@code null} the {@code new} dead letters
     * {@code filter} matches. {@code force} replays those that kept no body too.
     */
    public record Request(List<Long> ids, DeadLetterFilter filter, boolean force, boolean dryRun) {
        public Request {
            if ((ids == null) == (filter == null)) {
                throw new IllegalArgumentException("give either ids or a filter");
            }
            if (ids != null && ids.isEmpty()) {
                throw new IllegalArgumentException("no dead letter ids given");
            }
            if (ids != null && ids.size() > MAX_PER_ACTION) {
                throw new IllegalArgumentException(
                        "at most " + MAX_PER_ACTION + " ids in one action (was " + ids.size() + ")");
            }
        }

        Map<String, Object> describe() {
            Map<String, Object> d = new LinkedHashMap<>();
            if (ids != null) {
                d.put("ids", ids);
            } else {
                d.put("filter", filter.toParameters());
            }
            if (force) {
                d.put("force", true);
            }
            return d;
        }
    }

    /**
     * How an action went, or for a dry run what it would take: {@code matched} dead letters,
     * the first of them in {@code ids}; {@code maxId} pins a filter's action to what the dry run saw.
     */
    public record Outcome(
            String action,
            boolean dryRun,
            long matched,
            List<Long> ids,
            Long maxId,
            int succeeded,
            int refused,
            List<String> refusals,
            Long auditId,
            String note) {}

    private final DataSource dataSource;
    private final BrokerConfig brokerConfig;
    private final DeadLetterQueries queries;
    private final AuditLog audit;
    private Broker broker;
    private DeadLetters replaying;

    /** {@code brokerConfig}: where replays publish; connected at the first replay, not before. */
    public DeadLetterActions(DataSource dataSource, BrokerConfig brokerConfig) {
        this.dataSource = dataSource;
        this.brokerConfig = brokerConfig;
        this.queries = new DeadLetterQueries(dataSource);
        this.audit = new AuditLog(dataSource);
    }

    public Outcome replay(Actor actor, Request request) throws SQLException, InterruptedException {
        return act("replay", actor, request);
    }

    public Outcome discard(Actor actor, Request request) throws SQLException, InterruptedException {
        return act("discard", actor, request);
    }

    private Outcome act(String action, Actor actor, Request request) throws SQLException, InterruptedException {
        DeadLetterFilter filter = null;
        List<Long> ids;
        long matched;
        Long maxId = null;
        if (request.ids() != null) {
            ids = List.copyOf(new java.util.LinkedHashSet<>(request.ids()));
            matched = ids.size();
        } else {
            filter = request.filter().withStatus("new");
            maxId = filter.maxId() != null ? filter.maxId() : queries.maxId(filter);
            if (maxId == null) {
                return new Outcome(action, request.dryRun(), 0, List.of(), null, 0, 0, List.of(), null, null);
            }
            filter = filter.withMaxId(maxId);
            matched = queries.count(filter);
            ids = queries.ids(filter, request.dryRun() ? LISTED : MAX_PER_ACTION);
        }
        String note = matched > MAX_PER_ACTION
                ? (matched - MAX_PER_ACTION) + " more match than one action takes (" + MAX_PER_ACTION
                        + "); repeat it to go on"
                : null;
        if (request.dryRun()) {
            return new Outcome(
                    action,
                    true,
                    matched,
                    ids.subList(0, Math.min(LISTED, ids.size())),
                    maxId,
                    0,
                    0,
                    List.of(),
                    null,
                    note);
        }
        List<String> refusals = new ArrayList<>();
        int succeeded =
                "replay".equals(action) ? replayEach(ids, request.force(), refusals) : discardAll(ids, refusals);
        int refused = ids.size() - succeeded;
        Map<String, Object> asked = request.describe();
        if (filter != null) {
            // The filter as applied: new rows only, up to the id the action (or its dry run) was pinned to.
            asked.put("filter", filter.toParameters());
        }
        Long auditId = null;
        String detail = refusals.isEmpty()
                ? null
                : String.join("\n", refusals.subList(0, Math.min(REFUSALS_AUDITED, refusals.size())));
        try {
            auditId = audit.record(actor.name(), actor.remoteAddress(), action, asked, ids, succeeded, refused, detail);
        } catch (SQLException e) {
            // The action happened: the log keeps what the table could not.
            LOG.error(
                    "Console audit could not be recorded ({}): {} by {} from {}: {} of ids {} done, {} refused",
                    e.getMessage(),
                    action,
                    actor.name(),
                    actor.remoteAddress(),
                    succeeded,
                    ids,
                    refused);
            note = (note == null ? "" : note + "; ") + "the audit entry could not be written: " + e.getMessage();
        }
        LOG.info(
                "Dead letters: {} by {} from {}: {} done, {} refused{}",
                action,
                actor.name(),
                actor.remoteAddress(),
                succeeded,
                refused,
                auditId == null ? "" : " (audit " + auditId + ")");
        return new Outcome(
                action,
                false,
                matched,
                ids,
                maxId,
                succeeded,
                refused,
                refusals.subList(0, Math.min(REFUSALS_KEPT, refusals.size())),
                auditId,
                note);
    }

    private int replayEach(List<Long> ids, boolean force, List<String> refusals) throws InterruptedException {
        int replayed = 0;
        for (int i = 0; i < ids.size(); i++) {
            long id = ids.get(i);
            try {
                replaying().replay(id, force);
                replayed++;
            } catch (IllegalArgumentException | IllegalStateException e) {
                refusals.add(id + ": " + e.getMessage());
            } catch (IOException | SQLException e) {
                // The broker or the database is gone: the rest would fail the same way, one by one.
                refusals.add(id + ": " + e.getMessage());
                refusals.add("stopped after " + (i + 1) + " of " + ids.size() + ": "
                        + e.getClass().getSimpleName()
                        + "; the rest are still new, repeat the action when "
                        + (e instanceof IOException ? "RabbitMQ" : "PostgreSQL") + " is back");
                reconnectNextTime();
                break;
            }
        }
        return replayed;
    }

    private int discardAll(List<Long> ids, List<String> refusals) throws SQLException {
        Map<Long, String> statuses = queries.statuses(ids);
        List<Long> fresh = new ArrayList<>();
        for (long id : ids) {
            String status = statuses.get(id);
            if (status == null) {
                refusals.add(id + ": no dead letter with id " + id);
            } else if (!"new".equals(status)) {
                refusals.add(id + ": dead letter " + id + " is " + status + "; only new ones are discarded");
            } else {
                fresh.add(id);
            }
        }
        if (fresh.isEmpty()) {
            return 0;
        }
        try (DeadLetters dl = new DeadLetters(dataSource, null)) {
            int changed = dl.discard(fresh);
            if (changed < fresh.size()) {
                refusals.add((fresh.size() - changed) + " changed status while being discarded, and were left");
            }
            return changed;
        }
    }

    private synchronized DeadLetters replaying() throws IOException {
        if (replaying == null || broker == null || !broker.isOpen()) {
            reconnectNextTime();
            broker = Broker.connect(brokerConfig);
            replaying = new DeadLetters(dataSource, broker);
        }
        return replaying;
    }

    private synchronized void reconnectNextTime() {
        if (replaying != null) {
            replaying.close();
            replaying = null;
        }
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }

    public DeadLetterQueries queries() {
        return queries;
    }

    public AuditLog audit() {
        return audit;
    }

    @Override
    public void close() {
        reconnectNextTime();
    }
}
