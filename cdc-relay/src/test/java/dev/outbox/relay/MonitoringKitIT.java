package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.outbox.db.Migrations;
import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.RabbitFixture;
import dev.outbox.testing.TestDatabase;
import dev.outbox.testing.TestVhost;
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

    @Test
    void theAlertsAndTheDashboardNameOnlyMetricsARunningRelayExports() throws Exception {
        List<JsonNode> rules = rules();
        Set<String> named = new TreeSet<>();
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
            Matcher m = RELAY_METRIC.matcher(rule.path("expr").asText());
            while (m.find()) {
                named.add(m.group());
            }
        }
        assertThat(named).as("relay metrics the rules use").isNotEmpty();
        for (JsonNode expr : new ObjectMapper().readTree(DASHBOARD.toFile()).findValues("expr")) {
            Matcher m = RELAY_METRIC.matcher(expr.asText());
            while (m.find()) {
                named.add(m.group());
            }
        }

        try (TestDatabase db = PostgresFixture.get().createDatabase("relay_monitoring");
                TestVhost vhost = RabbitFixture.get().newVirtualHost("relay-monitoring")) {
            Migrations.apply(db.dataSource());
            Map<String, String> env = RelayEnv.forTest(db, RabbitFixture.get());
            env.put("RELAY_RABBITMQ_URI", vhost.uri());
            try (RelayHarness relay = RelayHarness.start(env).awaitReady()) {
                // Counters by exchange exist from an exchange's first event on.
                db.execute("INSERT INTO events (routing_key, payload) VALUES ('monitoring.checked', '{}')");
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> relay.relay().metrics().scrape().contains("relay_events_published_total{"));
                String scrape = relay.relay().metrics().scrape();
                for (String metric : named) {
                    assertThat(scrape)
                            .as("/metrics of a running relay exports " + metric
                                    + ", which alerts.yml or the dashboard uses")
                            .containsPattern("(?m)^" + metric + "[ {]");
                }
            }
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
