package dev.outbox.relay.console;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outbox.sdk.deadletter.DeadLetter;
import dev.outbox.sdk.deadletter.DeadLetters;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.sql.DataSource;

/** The console's pages: plain HTML, no script, every value escaped by {@link Html}. */
final class ConsolePages {

    static final int BODY_SHOWN = 256 * 1024;
    private static final String STYLE = "body{font:14px system-ui,sans-serif;margin:0;color:#1d2330}"
            + "header{background:#1d2330;color:#fff;padding:8px 16px;display:flex;gap:18px;align-items:center}"
            + "header a{color:#cfe0ff;text-decoration:none}header .who{margin-left:auto}"
            + "main{padding:12px 16px}table{border-collapse:collapse;margin:8px 0}"
            + "td,th{border:1px solid #d5d9e0;padding:3px 7px;text-align:left;vertical-align:top}"
            + "th{background:#eef1f5}pre{background:#f5f7fa;padding:8px;overflow:auto;max-height:480px}"
            + ".err{color:#a40000}.note{color:#555}.state-streaming{color:#0a7a28;font-weight:bold}"
            + ".state-standby{color:#8a6d00;font-weight:bold}form.inline{display:inline}"
            + "fieldset{border:1px solid #d5d9e0;margin:8px 0}label{margin-right:10px}"
            + "button{margin:2px}.problem{border:1px solid #a40000;padding:8px;background:#fff3f3}";

    private final ConsoleAuth auth;
    private final DeadLetterActions actions;
    private final DeadLetterQueries queries;
    private final DataSource dataSource;
    private final Supplier<RelayStatus> status;

    ConsolePages(ConsoleAuth auth, DeadLetterActions actions, DataSource dataSource, Supplier<RelayStatus> status) {
        this.auth = auth;
        this.actions = actions;
        this.queries = actions.queries();
        this.dataSource = dataSource;
        this.status = status;
    }

    Reply handle(Call call, String path) throws Exception {
        if (call.isGet()) {
            if (path.equals("/") || path.isEmpty()) {
                return overview(call);
            }
            if (path.equals("/dead-letters")) {
                return deadLetters(call);
            }
            if (path.startsWith("/dead-letters/")) {
                return deadLetter(call, path.substring("/dead-letters/".length()));
            }
            if (path.equals("/audit")) {
                return audit(call);
            }
        } else if (call.isPost() && (path.equals("/dead-letters/replay") || path.equals("/dead-letters/discard"))) {
            return act(call, path.substring("/dead-letters/".length()));
        }
        return problem(404, "there is no page " + call.path);
    }

    private Reply overview(Call call) throws Exception {
        RelayStatus s = status.get();
        Map<String, Long> byStatus = queries.countByStatus();
        Html h = start(call, "Overview", true);
        h.raw("<h1>Relay</h1><table id=\"overview\">")
                .raw("<tr><th>State</th><td id=\"state\" class=\"state-")
                .text(s.state().replace(' ', '-'))
                .raw("\">")
                .text(s.state())
                .raw("</td></tr>");
        if (s.detail() != null) {
            h.raw("<tr><th>Why</th><td>").text(s.detail()).raw("</td></tr>");
        }
        h.raw("<tr><th>Slot lag</th><td>")
                .text(s.slotLagBytes() < 0 ? "not measured yet" : bytes(s.slotLagBytes()))
                .raw("</td></tr><tr><th>Published</th><td>")
                .text(String.format("%.1f events/s (last 15 s)", s.publishedPerSecond()))
                .raw("</td></tr><tr><th>Unconfirmed</th><td>")
                .text(s.unconfirmed())
                .raw("</td></tr><tr><th>Parked</th><td>")
                .text(s.parked())
                .raw("</td></tr></table><h2>Dead letters</h2><table id=\"dead-letter-counts\"><tr>");
        for (String st : byStatus.keySet()) {
            h.raw("<th>").text(st).raw("</th>");
        }
        h.raw("</tr><tr>");
        for (Map.Entry<String, Long> e : byStatus.entrySet()) {
            h.raw("<td><a href=\"")
                    .text(Console.PATH + "/dead-letters" + Html.query(Map.of("status", e.getKey())))
                    .raw("\">")
                    .text(e.getValue())
                    .raw("</a></td>");
        }
        h.raw("</tr></table><p class=\"note\">Refreshes every 5 seconds.</p>");
        return end(h);
    }

    private Reply deadLetters(Call call) throws Exception {
        DeadLetterFilter filter = DeadLetterFilter.parse(call.query);
        Html h = start(call, "Dead letters", false);
        h.raw("<h1>Dead letters</h1>");
        filterForm(h, filter);
        List<DeadLetterQueries.Group> groups = queries.groups(filter);
        h.raw("<h2>By reason, queue and error</h2><table id=\"groups\"><tr><th>Queue</th><th>Reason</th>"
                + "<th>Error fingerprint</th><th>Count</th><th>New</th><th>First seen</th><th>Last seen</th></tr>");
        for (DeadLetterQueries.Group g : groups) {
            Map<String, String> p = new LinkedHashMap<>(filter.toParameters());
            put(p, "queue", g.queue());
            put(p, "reason", g.reason());
            put(p, "fingerprint", g.fingerprint());
            h.raw("<tr><td>")
                    .text(g.queue())
                    .raw("</td><td>")
                    .text(g.reason())
                    .raw("</td><td><a class=\"group\" href=\"")
                    .text(Console.PATH + "/dead-letters" + Html.query(p))
                    .raw("\">")
                    .text(g.fingerprint())
                    .raw("</a></td><td>")
                    .text(g.count())
                    .raw("</td><td>")
                    .text(g.countNew())
                    .raw("</td><td>")
                    .text(time(g.firstSeen()))
                    .raw("</td><td>")
                    .text(time(g.lastSeen()))
                    .raw("</td></tr>");
        }
        h.raw("</table>");
        long total = queries.count(filter);
        List<DeadLetterQueries.Summary> rows = queries.list(filter);
        h.raw("<h2>Messages</h2><p id=\"shown\">")
                .text("Showing " + rows.size() + " of " + total + ", newest first.")
                .raw("</p>");
        bulkActions(call, h, filter);
        h.raw("<table id=\"dead-letters\"><tr><th>Id</th><th>Status</th><th>Reason</th><th>Queue</th>"
                + "<th>Routing key</th><th>Message id</th><th>Dead-lettered</th><th>Error</th></tr>");
        for (DeadLetterQueries.Summary s : rows) {
            h.raw("<tr><td><a class=\"dead-letter\" href=\"")
                    .text(Console.PATH + "/dead-letters/" + s.id())
                    .raw("\">")
                    .text(s.id())
                    .raw("</a></td><td>")
                    .text(s.status())
                    .raw("</td><td>")
                    .text(s.reason())
                    .raw("</td><td>")
                    .text(s.queue())
                    .raw("</td><td>")
                    .text(s.routingKey())
                    .raw("</td><td>")
                    .text(s.messageId())
                    .raw("</td><td>")
                    .text(time(s.deadLetteredAt()))
                    .raw("</td><td>")
                    .text(shorten(s.lastError(), 140))
                    .raw("</td></tr>");
        }
        h.raw("</table>");
        return end(h);
    }

    private static void filterForm(Html h, DeadLetterFilter f) {
        h.raw("<form id=\"filter\" method=\"get\" action=\"")
                .text(Console.PATH + "/dead-letters")
                .raw("\"><fieldset><legend>Filter</legend>");
        input(h, "queue", "Queue", f.queue());
        select(h, "reason", "Reason", DeadLetterFilter.REASONS, f.reason());
        select(h, "status", "Status", DeadLetterFilter.STATUSES, f.status());
        input(h, "routing_key", "Routing key (* for any)", f.routingKey());
        input(h, "since", "Since (UTC)", f.since() == null ? null : f.since().toString());
        input(h, "until", "Until (UTC)", f.until() == null ? null : f.until().toString());
        input(h, "fingerprint", "Error fingerprint", f.fingerprint());
        h.raw("<button type=\"submit\" id=\"apply-filter\">Apply</button> <a href=\"")
                .text(Console.PATH + "/dead-letters")
                .raw("\">Clear</a></fieldset></form>");
    }

    private void bulkActions(Call call, Html h, DeadLetterFilter filter) {
        if (call.principal == null) {
            h.raw("<p class=\"note\"><a href=\"")
                    .text(Console.PATH + "/login?next="
                            + java.net.URLEncoder.encode(
                                    call.path + (call.query.isEmpty() ? "" : Html.query(call.query)),
                                    java.nio.charset.StandardCharsets.UTF_8))
                    .raw("\">Sign in</a> to replay or discard.</p>");
            return;
        }
        for (String action : List.of("replay", "discard")) {
            h.raw("<form class=\"inline\" method=\"post\" action=\"")
                    .text(Console.PATH + "/dead-letters/" + action)
                    .raw("\">");
            hiddenFilter(h, filter);
            csrf(call, h);
            h.raw("<input type=\"hidden\" name=\"dry_run\" value=\"true\"><button type=\"submit\" id=\"bulk-")
                    .text(action)
                    .raw("\">")
                    .text(("replay".equals(action) ? "Replay" : "Discard") + " every new one matching…")
                    .raw("</button></form>");
        }
    }

    private Reply deadLetter(Call call, String idText) throws Exception {
        long id;
        try {
            id = Long.parseLong(idText);
        } catch (NumberFormatException e) {
            return problem(404, "there is no dead letter '" + idText + "': ids are whole numbers");
        }
        DeadLetter d;
        try (DeadLetters dl = new DeadLetters(dataSource, null)) {
            var found = dl.show(id);
            if (found.isEmpty()) {
                return problem(404, "there is no dead letter with id " + id);
            }
            d = found.get();
        }
        Html h = start(call, "Dead letter " + id, false);
        h.raw("<h1>Dead letter ").text(id).raw("</h1><table id=\"summary\">");
        row(h, "Status", d.status());
        row(h, "Reason", d.reason());
        row(h, "Queue", d.queue());
        row(h, "Exchange", d.exchange());
        row(h, "Routing key", d.routingKey());
        row(h, "Message id", d.messageId());
        row(h, "Dead-lettered", time(d.deadLetteredAt()));
        row(h, "Captured", time(d.capturedAt()));
        row(h, "Replayed", time(d.replayedAt()));
        h.raw("</table>");
        String fingerprint = queries.fingerprint(id);
        h.raw("<p>Error: <span id=\"last-error\" class=\"err\">")
                .text(d.lastError() == null ? "(none)" : d.lastError())
                .raw("</span> <a href=\"")
                .text(Console.PATH + "/dead-letters"
                        + Html.query(Map.of(
                                "queue", String.valueOf(d.queue()),
                                "reason", d.reason(),
                                "fingerprint", fingerprint)))
                .raw("\">others like it</a></p>");
        if (call.principal != null && "new".equals(d.status())) {
            boolean noBody = d.headers().hasNonNull(dev.outbox.protocol.Headers.BODY_OMITTED_BYTES);
            for (String action : List.of("replay", "discard")) {
                h.raw("<form class=\"inline\" method=\"post\" action=\"")
                        .text(Console.PATH + "/dead-letters/" + action)
                        .raw("\"><input type=\"hidden\" name=\"ids\" value=\"")
                        .text(id)
                        .raw("\">");
                csrf(call, h);
                if ("replay".equals(action) && noBody) {
                    h.raw("<label><input type=\"checkbox\" name=\"force\" value=\"true\">"
                            + " replay with an empty body (it kept none)</label>");
                }
                h.raw("<button type=\"submit\" id=\"")
                        .text(action)
                        .raw("\">")
                        .text("replay".equals(action) ? "Replay" : "Discard")
                        .raw("</button></form>");
            }
        }
        h.raw("<h2>Retry history</h2><p id=\"retries\">")
                .text("Retried " + d.retryCount() + " times before it was dead-lettered.")
                .raw("</p>");
        JsonNode deaths = d.headers().path("x-death");
        if (deaths.isArray() && !deaths.isEmpty()) {
            h.raw("<table id=\"deaths\"><tr><th>Queue</th><th>Reason</th><th>Count</th><th>Exchange</th>"
                    + "<th>Routing keys</th><th>Time</th></tr>");
            for (JsonNode death : deaths) {
                h.raw("<tr><td>")
                        .text(death.path("queue").asText())
                        .raw("</td><td>")
                        .text(death.path("reason").asText())
                        .raw("</td><td>")
                        .text(death.path("count").asText())
                        .raw("</td><td>")
                        .text(death.path("exchange").asText())
                        .raw("</td><td>")
                        .text(death.path("routing-keys").toString())
                        .raw("</td><td>")
                        .text(death.path("time").asText())
                        .raw("</td></tr>");
            }
            h.raw("</table>");
        } else {
            h.raw("<p class=\"note\">No dead-lettering by RabbitMQ recorded on it (x-death): it was dead-lettered by"
                    + " its consumer or the relay, or died once without a retry queue.</p>");
        }
        h.raw("<h2>Replay history</h2><p>")
                .text("Replayed before it died: "
                        + d.headers()
                                .path(dev.outbox.protocol.Headers.REPLAY_COUNT)
                                .asText("0") + " times.")
                .raw("</p>");
        auditTable(h, actions.audit().forDeadLetter(id), "history");
        h.raw("<h2>Properties</h2><pre id=\"properties\">")
                .text(pretty(d.properties()))
                .raw("</pre>");
        h.raw("<h2>Headers</h2><pre id=\"headers\">").text(pretty(d.headers())).raw("</pre>");
        h.raw("<h2>Body</h2><pre id=\"body\">").text(body(d)).raw("</pre>");
        return end(h);
    }

    private Reply audit(Call call) throws Exception {
        Html h = start(call, "Audit", false);
        h.raw("<h1>Audit</h1><p class=\"note\">Every replay and discard, newest first (the latest 200).</p>");
        auditTable(h, actions.audit().recent(200), "audit");
        return end(h);
    }

    private static void auditTable(Html h, List<AuditLog.Entry> entries, String id) {
        if (entries.isEmpty()) {
            h.raw("<p class=\"note\">No replay or discard recorded.</p>");
            return;
        }
        h.raw("<table id=\"")
                .text(id)
                .raw("\"><tr><th>#</th><th>When</th><th>Who</th><th>From</th><th>Action</th><th>Asked</th>"
                        + "<th>Done</th><th>Refused</th><th>Detail</th></tr>");
        for (AuditLog.Entry e : entries) {
            h.raw("<tr><td>")
                    .text(e.id())
                    .raw("</td><td>")
                    .text(time(e.at()))
                    .raw("</td><td>")
                    .text(e.actor())
                    .raw("</td><td>")
                    .text(e.remoteAddress())
                    .raw("</td><td>")
                    .text(e.action())
                    .raw("</td><td>")
                    .text(shorten(e.request().toString(), 200))
                    .raw("</td><td>")
                    .text(e.succeeded())
                    .raw("</td><td>")
                    .text(e.refused())
                    .raw("</td><td>")
                    .text(e.detail() == null ? "" : shorten(e.detail(), 300))
                    .raw("</td></tr>");
        }
        h.raw("</table>");
    }

    /** A form's action: a dry run shows what it would take and asks to confirm; otherwise it is done. */
    private Reply act(Call call, String action) throws Exception {
        Map<String, String> form = call.form();
        List<String> idTexts = call.formAll("ids");
        boolean force = "true".equals(form.get("force"));
        boolean dryRun = "true".equals(form.get("dry_run"));
        DeadLetterActions.Request request;
        if (!idTexts.isEmpty()) {
            List<Long> ids = new java.util.ArrayList<>();
            for (String t : idTexts) {
                try {
                    ids.add(Long.parseLong(t.trim()));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("ids must be whole numbers (was '" + shorten(t, 40) + "')");
                }
            }
            request = new DeadLetterActions.Request(ids, null, force, dryRun);
        } else {
            request = new DeadLetterActions.Request(null, DeadLetterFilter.parse(form), force, dryRun);
        }
        DeadLetterActions.Actor actor = ConsoleApi.actor(call);
        DeadLetterActions.Outcome o =
                "replay".equals(action) ? actions.replay(actor, request) : actions.discard(actor, request);
        String verb = "replay".equals(action) ? "Replay" : "Discard";
        Html h = start(call, verb, false);
        if (o.dryRun()) {
            h.raw("<h1>").text(verb + ": dry run").raw("</h1><p id=\"dry-run\">");
            h.text(o.matched() + " new dead letters match"
                            + (o.matched() == 0 ? "; nothing to do." : "; nothing has been done yet."))
                    .raw("</p>");
            if (o.note() != null) {
                h.raw("<p class=\"note\">").text(o.note()).raw("</p>");
            }
            if (o.matched() > 0) {
                h.raw("<p>")
                        .text(
                                (o.matched() > o.ids().size()
                                        ? "The first " + o.ids().size() + ": "
                                        : "They are: "))
                        .raw("</p><ul id=\"would-take\">");
                Map<Long, DeadLetterQueries.Summary> described = new java.util.HashMap<>();
                for (DeadLetterQueries.Summary s : queries.summaries(o.ids())) {
                    described.put(s.id(), s);
                }
                for (long id : o.ids()) {
                    DeadLetterQueries.Summary s = described.get(id);
                    h.raw("<li><a href=\"")
                            .text(Console.PATH + "/dead-letters/" + id)
                            .raw("\">")
                            .text(id)
                            .raw("</a>")
                            .text(
                                    s == null
                                            ? ""
                                            : "  " + s.routingKey() + "  " + time(s.deadLetteredAt()) + "  "
                                                    + shorten(s.lastError(), 120))
                            .raw("</li>");
                }
                h.raw("</ul><form method=\"post\" action=\"")
                        .text(Console.PATH + "/dead-letters/" + action)
                        .raw("\">");
                if (request.ids() != null) {
                    for (long id : o.ids()) {
                        h.raw("<input type=\"hidden\" name=\"ids\" value=\"")
                                .text(id)
                                .raw("\">");
                    }
                } else {
                    hiddenFilter(h, request.filter().withMaxId(o.maxId()));
                }
                csrf(call, h);
                if (force) {
                    h.raw("<input type=\"hidden\" name=\"force\" value=\"true\">");
                }
                h.raw("<button type=\"submit\" id=\"confirm\">")
                        .text(verb + " these " + o.matched())
                        .raw("</button> <a href=\"")
                        .text(Console.PATH + "/dead-letters"
                                + (request.filter() == null
                                        ? ""
                                        : Html.query(request.filter().toParameters())))
                        .raw("\">Cancel</a></form><p class=\"note\">")
                        .text("Dead letters that arrive after this dry run (id above " + o.maxId()
                                + ") are not taken in.")
                        .raw("</p>");
            }
            return end(h);
        }
        h.raw("<h1>").text(verb).raw("</h1><p id=\"outcome\">");
        h.text(("replay".equals(action) ? "Replayed " : "Discarded ") + o.succeeded() + " of "
                        + o.ids().size() + (o.refused() > 0 ? "; " + o.refused() + " refused." : "."))
                .raw("</p>");
        if (!o.refusals().isEmpty()) {
            h.raw("<ul id=\"refusals\" class=\"err\">");
            for (String r : o.refusals()) {
                h.raw("<li>").text(r).raw("</li>");
            }
            h.raw("</ul>");
        }
        if (o.note() != null) {
            h.raw("<p class=\"note\">").text(o.note()).raw("</p>");
        }
        h.raw("<p>")
                .text(o.auditId() == null ? "" : "Recorded as audit entry " + o.auditId() + ". ")
                .raw("<a href=\"")
                .text(Console.PATH + "/audit")
                .raw("\">Audit</a> · <a href=\"")
                .text(Console.PATH + "/dead-letters")
                .raw("\">Dead letters</a></p>");
        return end(h);
    }

    Reply login(String next, String error) {
        Html h = start(null, "Sign in", false);
        h.raw("<h1>Sign in</h1>");
        if (error != null) {
            h.raw("<p id=\"login-error\" class=\"problem\">").text(error).raw("</p>");
        }
        h.raw("<form method=\"post\" action=\"")
                .text(Console.PATH + "/login")
                .raw("\"><input type=\"hidden\" name=\"next\" value=\"")
                .text(next == null ? Console.PATH : next)
                .raw("\">");
        if (auth.acceptsToken()) {
            h.raw("<p><label>Token <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"off\">"
                    + "</label></p>");
        }
        if (auth.acceptsPassword()) {
            h.raw("<p><label>User <input name=\"user\" id=\"user\" autocomplete=\"username\"></label>"
                    + "<label>Password <input type=\"password\" name=\"password\" id=\"password\""
                    + " autocomplete=\"current-password\"></label></p>");
        }
        h.raw("<button type=\"submit\" id=\"sign-in\">Sign in</button></form>");
        return end(h);
    }

    Reply problem(int status, String message) {
        Html h = start(null, "Problem", false);
        h.raw("<h1>")
                .text(status == 401 ? "Not signed in" : status == 403 ? "Refused" : "Problem")
                .raw("</h1><p id=\"problem\" class=\"problem\">")
                .text(message)
                .raw("</p><p><a href=\"")
                .text(Console.PATH)
                .raw("\">Overview</a></p>");
        Reply r = end(h);
        return new Reply(status, r.contentType(), r.body(), r.headers());
    }

    private Html start(Call call, String title, boolean refresh) {
        Html h = new Html();
        h.raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        if (refresh) {
            h.raw("<meta http-equiv=\"refresh\" content=\"5\">");
        }
        h.raw("<title>")
                .text(title + " · outbox console")
                .raw("</title><style>")
                .raw(STYLE)
                .raw("</style></head><body><header><strong>outbox console</strong><a href=\"")
                .text(Console.PATH)
                .raw("\">Overview</a><a href=\"")
                .text(Console.PATH + "/dead-letters?status=new")
                .raw("\">Dead letters</a><a href=\"")
                .text(Console.PATH + "/audit")
                .raw("\">Audit</a><span class=\"who\">");
        if (call != null && call.principal != null) {
            h.raw("signed in as <span id=\"actor\">")
                    .text(call.principal.actor())
                    .raw("</span>");
            if (call.principal.csrf() != null) {
                h.raw(" <form class=\"inline\" method=\"post\" action=\"")
                        .text(Console.PATH + "/logout")
                        .raw("\">");
                csrf(call, h);
                h.raw("<button type=\"submit\" id=\"sign-out\">Sign out</button></form>");
            }
        } else if (call != null && auth.hasCredentials()) {
            h.raw("<a id=\"sign-in-link\" href=\"")
                    .text(Console.PATH + "/login")
                    .raw("\">Sign in</a>");
        }
        h.raw("</span></header><main>");
        return h;
    }

    private static Reply end(Html h) {
        h.raw("</main></body></html>");
        return Reply.html(200, h.toString());
    }

    private static void csrf(Call call, Html h) {
        if (call.principal != null && call.principal.csrf() != null) {
            h.raw("<input type=\"hidden\" name=\"csrf\" value=\"")
                    .text(call.principal.csrf())
                    .raw("\">");
        }
    }

    private static void hiddenFilter(Html h, DeadLetterFilter filter) {
        for (Map.Entry<String, String> e : filter.toParameters().entrySet()) {
            h.raw("<input type=\"hidden\" name=\"")
                    .text(e.getKey())
                    .raw("\" value=\"")
                    .text(e.getValue())
                    .raw("\">");
        }
    }

    private static void input(Html h, String name, String label, String value) {
        h.raw("<label>")
                .text(label)
                .raw(" <input name=\"")
                .text(name)
                .raw("\" id=\"filter-")
                .text(name)
                .raw("\" value=\"")
                .text(value == null ? "" : value)
                .raw("\"></label>");
    }

    private static void select(Html h, String name, String label, List<String> options, String value) {
        h.raw("<label>")
                .text(label)
                .raw(" <select name=\"")
                .text(name)
                .raw("\" id=\"filter-")
                .text(name)
                .raw("\"><option value=\"\">any</option>");
        for (String o : options) {
            h.raw("<option")
                    .raw(o.equals(value) ? " selected" : "")
                    .raw(">")
                    .text(o)
                    .raw("</option>");
        }
        h.raw("</select></label>");
    }

    private static void row(Html h, String label, Object value) {
        h.raw("<tr><th>")
                .text(label)
                .raw("</th><td>")
                .text(value == null ? "" : value)
                .raw("</td></tr>");
    }

    private static void put(Map<String, String> p, String key, String value) {
        if (value == null) {
            p.remove(key);
        } else {
            p.put(key, value);
        }
    }

    /** The body as the message page shows it: JSON pretty-printed, text as is, other bytes as base64; at most BODY_SHOWN characters. */
    static String body(DeadLetter d) {
        // A JSON body is shortened too: a 16 MiB payload would otherwise make a page of that size.
        String text = d.bodyJson() != null ? pretty(d.bodyJson()) : DeadLetterJson.utf8(d.body());
        if (text == null) {
            String b64 = java.util.Base64.getEncoder().encodeToString(d.body());
            return "(not UTF-8 text; base64)\n" + shorten(b64, BODY_SHOWN);
        }
        return text.length() > BODY_SHOWN
                ? text.substring(0, BODY_SHOWN) + "\n… (" + text.length() + " characters; the API gives all of it)"
                : text;
    }

    private static String pretty(JsonNode node) {
        try {
            return DeadLetterJson.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return node.toString();
        }
    }

    private static String time(Instant t) {
        return t == null ? "" : t.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    private static String shorten(String s, int max) {
        if (s == null) {
            return "";
        }
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }

    private static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        if (n < 1024 * 1024) {
            return String.format("%.1f KiB", n / 1024.0);
        }
        return n < 1L << 30 ? String.format("%.1f MiB", n / 1048576.0) : String.format("%.2f GiB", n / 1073741824.0);
    }
}
