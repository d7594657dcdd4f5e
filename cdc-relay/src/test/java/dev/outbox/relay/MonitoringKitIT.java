package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.outbox.db.Migrations;
import dev.outbox.sdk.Broker;
import dev.outbox.sdk.BrokerConfig;
import dev.outbox.sdk.Subscriber;
import dev.outbox.sdk.SubscriptionOptions;
import dev.outbox.sdk.metrics.MicrometerSubscriberMetrics;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.RelayEnv;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/prometheus/alerts.yml and deploy/grafana/outbox-relay.json: every rule is complete,
 * every relay metric they name is one a running relay exports (a renamed metric would otherwise
 * leave an alert that never fires and an empty panel), and promtool accepts the rules where it
 * is installed.
 */
class MonitoringKitIT {

    private static final Path RULES = Path.of("..", "deploy", "prometheus", "alerts.yml");
    private static final Path DASHBOARD = Path.of("..", "deploy", "grafana", "outbox-relay.json");
    private static final Pattern RELAY_METRIC = Pattern.compile("\\brelay_[a-z_]+\\b");
    private static final Pattern SDK_METRIC = Pattern.compile("\\boutbox_[a-z_]+\\b");

    @Test
    void theAlertsAndTheDashboardNameOnlyMetricsARunningRelayExports() throws Exception {
        List<JsonNode> rules = rules();
        Set<String> named = new TreeSet<>();
        Set<String> sdkNamed = new TreeSet<>();
        for (JsonNode rule : rules) {
            String name = rule.path("alert").asText();
            assertThat(name).as("a rule without an alert name").isNotBlank();
            assertThat(rule.path("expr").asText()).as(name + " expr").isNotBlank();
            assertThat(rule.path("labels").path("severity").asText())
                    .as(name + " severity")
                    .isIn("critical", "warning");
            assertThat(rule.path("annotations").path("summary").asText())
                    .as(name + " summary")
                    .isNotBlank();
            collect(rule.path("expr").asText(), RELAY_METRIC, named);
            collect(rule.path("expr").asText(), SDK_METRIC, sdkNamed);
        }
        assertThat(named).as("relay metrics the rules use").isNotEmpty();
        assertThat(sdkNamed).as("SDK metrics the rules use").isNotEmpty();
        for (JsonNode expr : new ObjectMapper().readTree(DASHBOARD.toFile()).findValues("expr")) {
            collect(expr.asText(), RELAY_METRIC, named);
            collect(expr.asText(), SDK_METRIC, sdkNamed);
        }

        try (TestDatabase db = PostgresFixture.get().createDatabase("relay_monitoring");
                TestVhost vhost = RabbitFixture.get().newVirtualHost("relay-monitoring")) {
            Migrations.apply(db.dataSource());
            Map<String, String> env = RelayEnv.forTest(db, RabbitFixture.get());
            env.put("RELAY_RABBITMQ_URI", vhost.uri());
            try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                // Counters by exchange exist from an exchange's first event on, dead letter counts from the first one.
                db.execute("INSERT INTO events (routing_key, payload) VALUES ('monitoring.checked', '{}')");
                db.execute("INSERT INTO dead_letters (reason, queue, body, dedupe_key)"
                        + " VALUES ('rejected', 'monitored', '\\x7b7d', 'monitoring-1')");
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> relay.relay().metrics().scrape().contains("relay_events_published_total{")
                                && relay.relay().metrics().scrape().contains("relay_dead_letters_new{"));
                String scrape = relay.relay().metrics().scrape();
                for (String metric : named) {
                    assertThat(scrape)
                            .as("/metrics of a running relay exports " + metric
                                    + ", which alerts.yml or the dashboard uses")
                            .containsPattern("(?m)^" + metric + "[ {]");
                }
            }
            assertSdkExports(sdkNamed, vhost.uri());
        }
    }

    /** The consumers' metrics, as an application exports them: a subscription with MicrometerSubscriberMetrics. */
    private static void assertSdkExports(Set<String> sdkNamed, String vhostUri) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (Broker broker = Broker.connect(BrokerConfig.of(vhostUri));
                Subscriber subscriber = new Subscriber(
                        broker,
                        "monitoring.#",
                        SubscriptionOptions.queue("monitoring_consumer")
                                .metrics(new MicrometerSubscriberMetrics(registry)),
                        "monitoring")) {
            subscriber.start((headers, body) -> {});
            String scrape = registry.scrape();
            for (String metric : sdkNamed) {
                assertThat(scrape)
                        .as("a subscription's meters export " + metric + ", which alerts.yml or the dashboard uses")
                        .containsPattern("(?m)^" + metric + "[ {]");
            }
        }
    }

    private static void collect(String expr, Pattern metric, Set<String> into) {
        Matcher m = metric.matcher(expr);
        while (m.find()) {
            into.add(m.group());
        }
    }

    @Test
    void promtoolAcceptsTheRulesWhereItIsInstalled() throws Exception {
        assertThat(rules()).as("rules in " + RULES).isNotEmpty();
        Path promtool = findOnPath("promtool");
        if (promtool == null) {
            return; // not installed here: the structure is checked above, promtool checks the PromQL where it runs
        }
        Process p = new ProcessBuilder(promtool.toString(), "check", "rules", RULES.toString())
                .redirectErrorStream(true)
                .start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.exitValue()).as(output).isZero();
    }

    private static List<JsonNode> rules() throws Exception {
        JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(RULES.toFile());
        List<JsonNode> rules = new ArrayList<>();
        for (JsonNode group : root.path("groups")) {
            group.path("rules").forEach(rules::add);
        }
        return rules;
    }

    private static Path findOnPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
