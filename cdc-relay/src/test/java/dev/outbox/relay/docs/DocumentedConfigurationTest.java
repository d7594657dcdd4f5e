package dev.outbox.relay.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.outbox.relay.config.Setting;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The configuration table of docs/operating.md and docker-compose.yml agree with the settings the relay declares. */
class DocumentedConfigurationTest {

    private static final Path ROOT = Path.of("..");

    static String row(Setting s) {
        String shown = s.defaultValue().isEmpty() ? "(empty)" : "`" + s.defaultValue() + "`";
        return "| `" + s.variable() + "` | " + shown + " | " + s.description() + " |";
    }

    @Test
    void operatingGuideTableListsEverySettingWithItsDefaultAndMeaning() throws Exception {
        List<String> documented = Files.readAllLines(ROOT.resolve("docs/operating.md")).stream()
                .filter(l -> l.startsWith("| `RELAY_"))
                .toList();
        List<String> declared = Arrays.stream(Setting.values())
                .map(DocumentedConfigurationTest::row)
                .toList();
        assertThat(documented)
                .as("docs/operating.md configuration table; expected rows:%n%s", String.join("\n", declared))
                .containsExactlyElementsOf(declared);
    }

    @Test
    void composeFileGivesTheRelayOnlyVariablesItKnows() throws Exception {
        JsonNode compose = new ObjectMapper(new YAMLFactory())
                .readTree(ROOT.resolve("docker-compose.yml").toFile());
        JsonNode relay = compose.path("services").path("relay");
        assertThat(relay.isMissingNode())
                .as("docker-compose.yml has a relay service")
                .isFalse();
        Set<String> known = Arrays.stream(Setting.values())
                .flatMap(s -> s.secret()
                        ? java.util.stream.Stream.of(s.variable(), s.variable() + "_FILE")
                        : java.util.stream.Stream.of(s.variable()))
                .collect(Collectors.toSet());
        Set<String> given = new LinkedHashSet<>();
        for (Iterator<String> it = relay.path("environment").fieldNames(); it.hasNext(); ) {
            given.add(it.next());
        }
        assertThat(given)
                .isNotEmpty()
                .allSatisfy(v -> assertThat(known).as("relay variable " + v).contains(v));
        assertThat(relay.path("healthcheck").path("test").toString()).contains("health");
        for (String service : List.of("postgres", "rabbitmq")) {
            assertThat(compose.path("services").has(service)).as(service).isTrue();
        }
        assertThat(compose.path("services").path("postgres").path("command").toString())
                .contains("wal_level=logical");
        assertThat(compose.path("services").path("rabbitmq").path("image").asText())
                .contains("management");
        String plugins = Files.readString(ROOT.resolve("deploy/rabbitmq/enabled_plugins"));
        assertThat(plugins).as("partitioned subscriptions need it").contains("rabbitmq_consistent_hash_exchange");
        assertThat(compose.path("services").path("rabbitmq").path("volumes").toString())
                .contains("deploy/rabbitmq/enabled_plugins:/etc/rabbitmq/enabled_plugins");
    }

    @Test
    void composeMonitoringProfileMountsTheKitAndScrapesTheRelay() throws Exception {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        JsonNode services =
                yaml.readTree(ROOT.resolve("docker-compose.yml").toFile()).path("services");
        for (String service : List.of("prometheus", "grafana")) {
            JsonNode s = services.path(service);
            assertThat(s.path("profiles").toString())
                    .as(service + " only with --profile monitoring")
                    .isEqualTo("[\"monitoring\"]");
            for (JsonNode volume : s.path("volumes")) {
                Path mounted = ROOT.resolve(volume.asText().split(":")[0]);
                assertThat(mounted).as(service + " mounts " + volume.asText()).exists();
            }
        }
        JsonNode prometheus =
                yaml.readTree(ROOT.resolve("deploy/prometheus/prometheus.yml").toFile());
        assertThat(prometheus.path("rule_files").toString()).contains("/etc/prometheus/alerts.yml");
        JsonNode job = prometheus.path("scrape_configs").get(0);
        assertThat(job.path("job_name").asText())
                .as("the job name alerts.yml expects")
                .isEqualTo("outbox-relay");
        assertThat(job.path("static_configs").toString()).contains("relay:8080");
        JsonNode datasource = yaml.readTree(ROOT.resolve("deploy/grafana/provisioning/datasources/prometheus.yml")
                        .toFile())
                .path("datasources")
                .get(0);
        assertThat(datasource.path("url").asText()).isEqualTo("http://prometheus:9090");
        JsonNode dashboards = yaml.readTree(ROOT.resolve("deploy/grafana/provisioning/dashboards/outbox.yml")
                .toFile());
        assertThat(services.path("grafana").path("volumes").toString())
                .contains(dashboards
                        .path("providers")
                        .get(0)
                        .path("options")
                        .path("path")
                        .asText());
    }
}
