package dev.outbox.relay.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outbox.sdk.deadletter.DeadLetters;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.sql.DataSource;

/** {@code /console/api}: the console's reads and actions as JSON (docs/operating.md, Console API). */
final class ConsoleApi {

    private final DeadLetterActions actions;
    private final DeadLetterQueries queries;
    private final DataSource dataSource;
    private final Supplier<RelayStatus> status;

    ConsoleApi(DeadLetterActions actions, DataSource dataSource, Supplier<RelayStatus> status) {
        this.actions = actions;
        this.queries = actions.queries();
        this.dataSource = dataSource;
        this.status = status;
    }

    Reply handle(Call call, String path) throws Exception {
        if (call.isGet()) {
            switch (path) {
                case "/overview" -> {
                    return ok(overview());
                }
                case "/dead-letters" -> {
                    DeadLetterFilter filter = DeadLetterFilter.parse(call.query);
                    ObjectNode out = DeadLetterJson.JSON.createObjectNode().put("total", queries.count(filter));
                    ArrayNode items = out.putArray("items");
                    queries.list(filter).forEach(s -> items.add(DeadLetterJson.summary(s)));
                    return ok(out);
                }
                case "/dead-letters/groups" -> {
                    ObjectNode out = DeadLetterJson.JSON.createObjectNode();
                    ArrayNode groups = out.putArray("groups");
                    queries.groups(DeadLetterFilter.parse(call.query))
                            .forEach(g -> groups.add(DeadLetterJson.group(g)));
                    return ok(out);
                }
                case "/audit" -> {
                    ObjectNode out = DeadLetterJson.JSON.createObjectNode();
                    ArrayNode entries = out.putArray("entries");
                    actions.audit()
                            .recent(DeadLetterFilter.parse(call.query).limit())
                            .forEach(e -> entries.add(DeadLetterJson.audit(e)));
                    return ok(out);
                }
                default -> {
                    if (path.startsWith("/dead-letters/")) {
                        return deadLetter(path.substring("/dead-letters/".length()));
                    }
                }
            }
        } else if (call.isPost()) {
            if (path.equals("/dead-letters/replay")) {
                return ok(DeadLetterJson.outcome(actions.replay(actor(call), request(call))));
            }
            if (path.equals("/dead-letters/discard")) {
                return ok(DeadLetterJson.outcome(actions.discard(actor(call), request(call))));
            }
        }
        return error(404, "no such API: " + call.method + " /console/api" + path + " (docs/operating.md, Console API)");
    }

    private ObjectNode overview() throws java.sql.SQLException {
        RelayStatus s = status.get();
        ObjectNode out = DeadLetterJson.JSON
                .createObjectNode()
                .put("state", s.state())
                .put("detail", s.detail())
                .put("slot_lag_bytes", s.slotLagBytes())
                .put("published_per_second", Math.round(s.publishedPerSecond() * 10) / 10.0)
                .put("unconfirmed", s.unconfirmed())
                .put("parked", s.parked());
        ObjectNode dead = out.putObject("dead_letters");
        queries.countByStatus().forEach(dead::put);
        return out;
    }

    private Reply deadLetter(String idText) throws Exception {
        long id;
        try {
            id = Long.parseLong(idText);
        } catch (NumberFormatException e) {
            return error(404, "no dead letter '" + idText + "': ids are whole numbers");
        }
        try (DeadLetters dl = new DeadLetters(dataSource, null)) {
            var found = dl.show(id);
            if (found.isEmpty()) {
                return error(404, "no dead letter with id " + id);
            }
            ObjectNode out = DeadLetterJson.full(found.get());
            out.put("fingerprint", queries.fingerprint(id));
            ArrayNode audit = out.putArray("audit");
            actions.audit().forDeadLetter(id).forEach(e -> audit.add(DeadLetterJson.audit(e)));
            return ok(out);
        }
    }

    /** {@code {"ids": [..]}} or {@code {"filter": {..}}}, with {@code dry_run} and {@code force}. */
    private static DeadLetterActions.Request request(Call call) {
        JsonNode body;
        try {
            body = DeadLetterJson.JSON.readTree(call.body);
        } catch (IOException e) {
            throw new IllegalArgumentException("the body must be JSON: {\"ids\": [1, 2]} or {\"filter\": {\"queue\":"
                    + " \"billing\"}}, with \"dry_run\": true to see what it would take");
        }
        if (body == null || !body.isObject()) {
            throw new IllegalArgumentException("the body must be a JSON object with ids or filter");
        }
        List<Long> ids = null;
        if (body.has("ids")) {
            if (!body.get("ids").isArray()) {
                throw new IllegalArgumentException("ids must be an array of dead letter ids");
            }
            ids = new ArrayList<>();
            for (JsonNode id : body.get("ids")) {
                if (!id.canConvertToLong() || !id.isIntegralNumber()) {
                    throw new IllegalArgumentException("ids must be whole numbers (was " + id + ")");
                }
                ids.add(id.longValue());
            }
        }
        DeadLetterFilter filter = null;
        if (body.has("filter")) {
            if (!body.get("filter").isObject()) {
                throw new IllegalArgumentException("filter must be an object such as {\"queue\": \"billing\"}");
            }
            Map<String, String> params = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = body.get("filter").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!DeadLetterFilter.isFilterParameter(e.getKey()) || "limit".equals(e.getKey())) {
                    throw new IllegalArgumentException("filter has no field '" + e.getKey()
                            + "' (queue, reason, routing_key, fingerprint, since, until, max_id)");
                }
                params.put(e.getKey(), e.getValue().asText());
            }
            filter = DeadLetterFilter.parse(params);
        }
        return new DeadLetterActions.Request(
                ids,
                filter,
                body.path("force").asBoolean(false),
                body.path("dry_run").asBoolean(false));
    }

    static DeadLetterActions.Actor actor(Call call) {
        return new DeadLetterActions.Actor(call.principal.actor(), call.remoteAddress);
    }

    private static Reply ok(JsonNode body) throws IOException {
        return Reply.json(
                200, DeadLetterJson.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
    }

    static Reply error(int status, String message) {
        ObjectNode e = DeadLetterJson.JSON.createObjectNode().put("error", message);
        return Reply.json(status, e.toString());
    }
}
