package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outbox.relay.console.Console;
import dev.outbox.sdk.Subscriber;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The console's API and its security against a real relay, PostgreSQL and RabbitMQ: dead letters
 * made by a throwing handler, grouped, filtered, replayed and discarded; credentials, sessions,
 * request forgery and escaping. The browser's view is {@code ConsoleBrowserIT}.
 */
class ConsoleIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static ConsoleWorld world;

    @BeforeAll
    static void start() throws Exception {
        world = ConsoleWorld.start("relay_console", false);
    }

    @AfterAll
    static void stop() throws Exception {
        if (world != null) {
            world.close();
        }
    }

    @Test
    void deadLettersAreGroupedByErrorFingerprintAndFoundByFilter() throws Exception {
        try (Subscriber s = world.subscribe("grouped", "console_grouped", (headers, body) -> {
            int n = body.get("n").asInt();
            if (n % 2 == 0) {
                throw new IllegalStateException("order " + n + " has no customer");
            }
            throw new IllegalArgumentException("price -" + n + " is negative for '" + "sku-" + n + "'");
        })) {
            for (int n = 1; n <= 5; n++) {
                world.append("grouped.created", "{\"n\": " + n + "}");
            }
            world.awaitDeadLetters("console_grouped", 5);
        }
        JsonNode groups = json(world.get("/api/dead-letters/groups?queue=console_grouped", ConsoleWorld.bearer()))
                .get("groups");
        assertThat(groups).hasSize(2);
        assertThat(groups.get(0).get("count").asLong()).isEqualTo(3);
        assertThat(groups.get(0).get("fingerprint").asText())
                .isEqualTo("java.lang.IllegalArgumentException: price -<n> is negative for <text>");
        assertThat(groups.get(1).get("count").asLong()).isEqualTo(2);
        assertThat(groups.get(1).get("fingerprint").asText())
                .isEqualTo("java.lang.IllegalStateException: order <n> has no customer");

        String fingerprint = URLEncoder.encode(groups.get(1).get("fingerprint").asText(), StandardCharsets.UTF_8);
        JsonNode found = json(world.get(
                "/api/dead-letters?queue=console_grouped&reason=rejected&fingerprint=" + fingerprint,
                ConsoleWorld.bearer()));
        assertThat(found.get("total").asLong()).isEqualTo(2);
        for (JsonNode item : found.get("items")) {
            assertThat(item.get("last_error").asText()).contains("has no customer");
        }
        assertThat(json(world.get("/api/dead-letters?routing_key=grouped.*&status=new", ConsoleWorld.bearer()))
                        .get("total")
                        .asLong())
                .isEqualTo(5);
    }

    @Test
    void aBulkReplayTakesWhatItsDryRunShowedAndIsAudited() throws Exception {
        List<Integer> handled = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean failing = new java.util.concurrent.atomic.AtomicBoolean(true);
        try (Subscriber s = world.subscribe("bulk", "console_bulk", (headers, body) -> {
            if (failing.get()) {
                throw new IllegalStateException("warehouse down");
            }
            handled.add(body.get("n").asInt());
        })) {
            for (int n = 1; n <= 3; n++) {
                world.append("bulk.created", "{\"n\": " + n + "}");
            }
            world.awaitDeadLetters("console_bulk", 3);

            JsonNode dryRun = json(world.postJson(
                    "/api/dead-letters/replay",
                    ConsoleWorld.bearer(),
                    "{\"filter\": {\"queue\": \"console_bulk\"}, \"dry_run\": true}"));
            assertThat(dryRun.get("matched").asLong()).isEqualTo(3);
            assertThat(dryRun.get("first_ids")).hasSize(3);
            long maxId = dryRun.get("max_id").asLong();
            assertThat(world.db.queryLong(
                            "SELECT count(*) FROM dead_letters WHERE queue = 'console_bulk'" + " AND status = 'new'"))
                    .as("a dry run changes nothing")
                    .isEqualTo(3);

            world.append("bulk.created", "{\"n\": 4}"); // dies after the dry run
            world.awaitDeadLetters("console_bulk", 4);
            failing.set(false);
            JsonNode done = json(world.postJson(
                    "/api/dead-letters/replay",
                    ConsoleWorld.bearer(),
                    "{\"filter\": {\"queue\": \"console_bulk\", \"max_id\": " + maxId + "}}"));
            assertThat(done.get("succeeded").asInt()).isEqualTo(3);
            assertThat(done.get("refused").asInt()).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == 3);
            assertThat(handled).containsExactlyInAnyOrder(1, 2, 3);
            assertThat(world.db.queryLong(
                            "SELECT count(*) FROM dead_letters WHERE queue = 'console_bulk'" + " AND status = 'new'"))
                    .as("the one that died after the dry run is left")
                    .isEqualTo(1);

            JsonNode entry = json(world.get("/api/audit?limit=5", ConsoleWorld.bearer()))
                    .get("entries")
                    .get(0);
            assertThat(entry.get("id").asLong()).isEqualTo(done.get("audit_id").asLong());
            assertThat(entry.get("actor").asText()).isEqualTo("token");
            assertThat(entry.get("action").asText()).isEqualTo("replay");
            assertThat(entry.get("succeeded").asInt()).isEqualTo(3);
            assertThat(entry.get("dead_letter_ids")).hasSize(3);
            assertThat(entry.get("request").get("filter").get("queue").asText()).isEqualTo("console_bulk");
            long replayedId = entry.get("dead_letter_ids").get(0).asLong();
            JsonNode message = json(world.get("/api/dead-letters/" + replayedId, ConsoleWorld.bearer()));
            assertThat(message.get("status").asText()).isEqualTo("replayed");
            assertThat(message.get("audit").get(0).get("id").asLong())
                    .isEqualTo(entry.get("id").asLong());
        }
    }

    @Test
    void actionsWithoutAValidCredentialAreRefusedAndLoggedWithoutTheSecret() throws Exception {
        long id = oneDeadLetter("refused", "console_refused");
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        Logger consoleLog = (Logger) LoggerFactory.getLogger(Console.class);
        logs.start();
        consoleLog.addAppender(logs);
        try {
            String discard = "{\"ids\": [" + id + "]}";
            assertThat(world.postJson("/api/dead-letters/discard", null, discard)
                            .statusCode())
                    .isEqualTo(401);
            String wrong = "a-wrong-token-that-must-not-be-logged";
            HttpResponse<String> refused = world.postJson("/api/dead-letters/discard", "Bearer " + wrong, discard);
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(refused.body()).contains("wrong token");
            String basic = java.util.Base64.getEncoder()
                    .encodeToString((ConsoleWorld.USER + ":not-the-password").getBytes(StandardCharsets.UTF_8));
            assertThat(world.postJson("/api/dead-letters/discard", "Basic " + basic, discard)
                            .statusCode())
                    .isEqualTo(401);
            assertThat(world.get("/api/overview", null).statusCode())
                    .as("reading needs a credential unless RELAY_CONSOLE_ANONYMOUS_READ")
                    .isEqualTo(401);
            assertThat(world.db.queryLong("SELECT count(*) FROM dead_letters WHERE id = " + id + " AND status = 'new'"))
                    .isEqualTo(1);

            List<String> lines = new ArrayList<>();
            logs.list.forEach(e -> lines.add(e.getFormattedMessage()));
            assertThat(lines)
                    .anyMatch(l ->
                            l.contains("refused POST /console/api/dead-letters/discard") && l.contains("wrong token"));
            assertThat(String.join("\n", lines)).doesNotContain(wrong).doesNotContain("not-the-password");

            String good = java.util.Base64.getEncoder()
                    .encodeToString((ConsoleWorld.USER + ":" + ConsoleWorld.PASSWORD).getBytes(StandardCharsets.UTF_8));
            JsonNode done = json(world.postJson("/api/dead-letters/discard", "Basic " + good, discard));
            assertThat(done.get("succeeded").asInt()).isEqualTo(1);
            JsonNode again = json(world.postJson("/api/dead-letters/discard", "Basic " + good, discard));
            assertThat(again.get("refused").asInt()).isEqualTo(1);
            assertThat(again.get("refusals").get(0).asText()).contains("is discarded; only new ones are discarded");
            assertThat(json(world.get("/api/audit", ConsoleWorld.bearer()))
                            .get("entries")
                            .get(0)
                            .get("actor")
                            .asText())
                    .isEqualTo(ConsoleWorld.USER);
        } finally {
            consoleLog.detachAppender(logs);
        }
    }

    @Test
    void aSignedInFormIsRefusedWithoutItsRequestForgeryTokenOrFromAnotherSite() throws Exception {
        long id = oneDeadLetter("forged", "console_forged");
        HttpResponse<String> signIn =
                world.postForm("/login", null, null, "token=" + ConsoleWorld.TOKEN + "&next=/console/dead-letters");
        assertThat(signIn.statusCode()).isEqualTo(303);
        String setCookie = signIn.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).contains("HttpOnly").contains("SameSite=Strict");
        String cookie = setCookie.split(";")[0];
        String page = world.http
                .send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create(world.base + "/dead-letters/" + id))
                                .header("Cookie", cookie)
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher csrf = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(page);
        assertThat(csrf.find()).as(page).isTrue();

        assertThat(world.postForm("/dead-letters/discard", cookie, null, "ids=" + id)
                        .statusCode())
                .isEqualTo(403);
        assertThat(world.postForm(
                                "/dead-letters/discard",
                                cookie,
                                "http://evil.example",
                                "ids=" + id + "&csrf=" + csrf.group(1))
                        .statusCode())
                .isEqualTo(403);
        assertThat(world.postJson("/api/dead-letters/discard", null, "{\"ids\": [" + id + "]}")
                        .statusCode())
                .as("the session alone does not open the API")
                .isEqualTo(401);
        assertThat(world.db.queryLong("SELECT count(*) FROM dead_letters WHERE id = " + id + " AND status = 'new'"))
                .isEqualTo(1);

        HttpResponse<String> done =
                world.postForm("/dead-letters/discard", cookie, null, "ids=" + id + "&csrf=" + csrf.group(1));
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(done.body()).contains("Discarded 1 of 1");
        assertThat(world.db.queryLong(
                        "SELECT count(*) FROM dead_letters WHERE id = " + id + " AND status = 'discarded'"))
                .isEqualTo(1);
    }

    @Test
    void nothingOfAMessageIsRenderedAsMarkup() throws Exception {
        try (Subscriber s = world.subscribe("markup", "console_markup", (headers, body) -> {
            throw new IllegalStateException("<script>alert('error')</script>");
        })) {
            world.append("markup.created", "{\"note\": \"<img src=x onerror=alert(1)>\"}");
            world.awaitDeadLetters("console_markup", 1);
        }
        long id = world.db.queryLong("SELECT max(id) FROM dead_letters WHERE queue = 'console_markup'");
        HttpResponse<String> page = world.get("/dead-letters/" + id, ConsoleWorld.bearer());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body())
                .doesNotContain("<script>alert")
                .doesNotContain("<img src=x")
                .contains("&lt;script&gt;alert(&#39;error&#39;)&lt;/script&gt;")
                .contains("&lt;img src=x onerror=alert(1)&gt;");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
                .contains("default-src 'none'");
        HttpResponse<String> list = world.get("/dead-letters?queue=console_markup", ConsoleWorld.bearer());
        assertThat(list.body()).doesNotContain("<script>alert").contains("&lt;script&gt;");
    }

    @Test
    void anAddressThatKeepsGuessingIsRefusedForAWhileAndOthersAreNot() throws Exception {
        // From 127.0.0.2, another loopback address, so the other tests' address is not throttled.
        List<String> guesses = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            guesses.add(statusFrom("127.0.0.2", "Bearer not-the-token-" + i).get(0));
        }
        assertThat(guesses.subList(0, 10)).allSatisfy(c -> assertThat(c).startsWith("HTTP/1.1 401"));
        assertThat(guesses.get(10)).startsWith("HTTP/1.1 429");
        List<String> codes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            codes.add(statusFrom("127.0.0.2", ConsoleWorld.bearer()).get(0));
        }
        assertThat(codes)
                .as("even the right token waits, and is told how long")
                .allSatisfy(c -> assertThat(c).startsWith("HTTP/1.1 429"));
        assertThat(statusFrom("127.0.0.2", ConsoleWorld.bearer()))
                .anySatisfy(h -> assertThat(h).startsWithIgnoringCase("Retry-After:"));
        assertThat(world.get("/api/overview", ConsoleWorld.bearer()).statusCode())
                .as("another address")
                .isEqualTo(200);
    }

    @Test
    void aBadFilterIsRefusedWithAMessageThatNamesTheParameter() throws Exception {
        HttpResponse<String> bad = world.get("/api/dead-letters?reason=bogus", ConsoleWorld.bearer());
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(json(bad).get("error").asText()).startsWith("reason must be one of rejected");
        HttpResponse<String> badTime = world.get("/dead-letters?since=yesterday", ConsoleWorld.bearer());
        assertThat(badTime.statusCode()).isEqualTo(400);
        assertThat(badTime.body()).contains("since must be a time");
        HttpResponse<String> badBody = world.postJson("/api/dead-letters/replay", ConsoleWorld.bearer(), "[1, 2]");
        assertThat(badBody.statusCode()).isEqualTo(400);
        assertThat(json(badBody).get("error").asText()).contains("ids or filter");
    }

    @Test
    void theOverviewShowsTheRelayStreamingAndDeadLettersByStatus() throws Exception {
        JsonNode overview = json(world.get("/api/overview", ConsoleWorld.bearer()));
        assertThat(overview.get("state").asText()).isEqualTo("streaming");
        assertThat(overview.get("dead_letters").has("new")).isTrue();
        assertThat(overview.get("slot_lag_bytes").isNumber()).isTrue();
        HttpResponse<String> page = world.get("", null);
        assertThat(page.statusCode())
                .as("a page without a session goes to sign-in")
                .isEqualTo(303);
        assertThat(page.headers().firstValue("Location").orElseThrow()).startsWith("/console/login?next=");
    }

    /** The status line and headers of GET /api/overview sent from {@code source} (a loopback address). */
    private static List<String> statusFrom(String source, String authorization) throws Exception {
        java.net.URI uri = java.net.URI.create(world.base);
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.bind(new java.net.InetSocketAddress(source, 0));
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", uri.getPort()), 5_000);
            socket.getOutputStream()
                    .write(("GET /console/api/overview HTTP/1.1\r\nHost: 127.0.0.1:" + uri.getPort()
                                    + "\r\nAuthorization: " + authorization + "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return List.of(response.split("\r\n\r\n", 2)[0].split("\r\n"));
        }
    }

    private static long oneDeadLetter(String exchange, String queue) throws Exception {
        try (Subscriber s = world.subscribe(exchange, queue, (headers, body) -> {
            throw new IllegalStateException("cannot take it");
        })) {
            world.append(exchange + ".created", "{\"n\": 1}");
            world.awaitDeadLetters(queue, 1);
        }
        return world.db.queryLong("SELECT max(id) FROM dead_letters WHERE queue = '" + queue + "'");
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        assertThat(response.headers().firstValue("Content-Type").orElse(""))
                .as(response.body())
                .startsWith("application/json");
        return JSON.readTree(response.body());
    }
}
