package dev.outbox.relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RelayConfigTest {

    @Test
    void defaultsPointAtTheLocalServicesWithStockCredentials() {
        RelayConfig config = RelayConfig.from(Map.of());
        assertThat(config.dbUrl()).isEqualTo("jdbc:postgresql://localhost:5432/postgres");
        assertThat(config.dbUser()).isEqualTo("postgres");
        assertThat(config.dbPassword().reveal()).isEmpty();
        assertThat(config.rabbitUri().reveal()).isEqualTo("amqp://guest:guest@localhost:5672/%2F");
        assertThat(config.appId()).isEqualTo("cdc-relay");
        assertThat(config.slot()).isEqualTo("cdc_relay");
        assertThat(config.publication()).isEqualTo("cdc_relay_events");
        assertThat(config.httpPort()).isEqualTo(8080);
        assertThat(config.migrate()).isTrue();
        assertThat(config.pollInterval()).isEqualTo(Duration.ofMillis(2));
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "RELAY_HTTP_PORT|0|RELAY_HTTP_PORT must be 1..65535 (was 0)",
                "RELAY_HTTP_PORT|http|RELAY_HTTP_PORT must be a whole number in 1..65535 (was http)",
                "RELAY_SLOT|Bad-Slot|RELAY_SLOT must be 1 to 63 of a-z 0-9 _ (PostgreSQL's rule for slot names) (was Bad-Slot)",
                "RELAY_DB_URL|postgres://x|RELAY_DB_URL must start with jdbc:postgresql:// (was postgres://x)",
                "RELAY_RABBITMQ_URI|http://host|RELAY_RABBITMQ_URI must start with amqp:// or amqps:// (was scheme http)",
                "RELAY_RABBITMQ_URI|amqp://u:p@host:0/|RELAY_RABBITMQ_URI port must be 1..65535 (was 0)",
                "RELAY_RABBITMQ_ADDRESSES|a:1,b:99999|RELAY_RABBITMQ_ADDRESSES must be 1..65535 (was 99999)",
                "RELAY_MIGRATE|maybe|RELAY_MIGRATE must be true or false (was maybe)",
                "RELAY_LOG_FORMAT|xml|RELAY_LOG_FORMAT must be text or json (was xml)",
                "RELAY_MAX_BATCH_SIZE|0|RELAY_MAX_BATCH_SIZE must be 1..65536 (was 0)",
            })
    void badValuesAreRefusedNamingTheVariableTheRuleAndTheValue(String variable, String value, String message) {
        assertThatThrownBy(() -> RelayConfig.from(Map.of(variable, value)))
                .isInstanceOf(ConfigException.class)
                .hasMessage(message);
    }

    @Test
    void aBadUriDoesNotEchoItsPassword() {
        assertThatThrownBy(() -> RelayConfig.from(Map.of("RELAY_RABBITMQ_URI", "amqp://u:s3cret pass@host/")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("RELAY_RABBITMQ_URI is not a valid URI")
                .hasMessageNotContaining("s3cret");
    }

    @Test
    void queueSizeMustExceedBatchSize() {
        assertThatThrownBy(() -> RelayConfig.from(Map.of("RELAY_MAX_BATCH_SIZE", "100", "RELAY_MAX_QUEUE_SIZE", "100")))
                .hasMessage("RELAY_MAX_QUEUE_SIZE must be larger than RELAY_MAX_BATCH_SIZE (was 100 <= 100)");
    }

    @Test
    void theConsoleIsOffUntilACredentialIsSetAndRefusesWeakOrHalfSetOnes(@TempDir Path dir) throws Exception {
        assertThat(RelayConfig.from(Map.of()).console().enabled()).isFalse();
        assertThatThrownBy(() -> RelayConfig.from(Map.of("RELAY_CONSOLE_TOKEN", "short")))
                .hasMessageStartingWith("RELAY_CONSOLE_TOKEN must be at least 16 characters")
                .hasMessageNotContaining("short");
        assertThatThrownBy(() -> RelayConfig.from(Map.of("RELAY_CONSOLE_USER", "ops")))
                .hasMessage("set both RELAY_CONSOLE_USER and RELAY_CONSOLE_PASSWORD, or neither (only"
                        + " RELAY_CONSOLE_USER is set)");
        assertThatThrownBy(
                        () -> RelayConfig.from(Map.of("RELAY_CONSOLE_USER", "ops", "RELAY_CONSOLE_PASSWORD", "1234")))
                .hasMessage("RELAY_CONSOLE_PASSWORD must be at least 8 characters");
        Path token = Files.writeString(dir.resolve("token"), "0123456789abcdefXYZ\n");
        RelayConfig config = RelayConfig.from(Map.of("RELAY_CONSOLE_TOKEN_FILE", token.toString()));
        assertThat(config.console().enabled()).isTrue();
        assertThat(config.console().token().reveal()).isEqualTo("0123456789abcdefXYZ");
        assertThat(config.toString()).doesNotContain("0123456789abcdefXYZ");
        RelayConfig readOnly = RelayConfig.from(Map.of("RELAY_CONSOLE_ANONYMOUS_READ", "true"));
        assertThat(readOnly.console().enabled()).isTrue();
        assertThat(readOnly.console().hasCredentials()).isFalse();
    }

    @Test
    void secretsComeFromFilesWithoutTheirTrailingNewline(@TempDir Path dir) throws Exception {
        Path password = Files.writeString(dir.resolve("pw"), "from-file\n");
        Path uri = Files.writeString(dir.resolve("uri"), "amqp://relay:hidden@broker:5672/prod\n");
        RelayConfig config = RelayConfig.from(
                Map.of("RELAY_DB_PASSWORD_FILE", password.toString(), "RELAY_RABBITMQ_URI_FILE", uri.toString()));
        assertThat(config.dbPassword().reveal()).isEqualTo("from-file");
        assertThat(config.rabbitUri().reveal()).isEqualTo("amqp://relay:hidden@broker:5672/prod");
        assertThat(config.rabbitEndpoint()).isEqualTo("amqp://broker:5672/prod");
    }

    @Test
    void aSecretSetTwiceOrInAMissingFileIsAnError(@TempDir Path dir) {
        assertThatThrownBy(() -> RelayConfig.from(Map.of("RELAY_DB_PASSWORD", "a", "RELAY_DB_PASSWORD_FILE", "/x")))
                .hasMessage("set either RELAY_DB_PASSWORD or RELAY_DB_PASSWORD_FILE, not both");
        assertThatThrownBy(() -> RelayConfig.from(
                        Map.of("RELAY_DB_PASSWORD_FILE", dir.resolve("none").toString())))
                .hasMessageStartingWith("RELAY_DB_PASSWORD_FILE must name a readable file");
    }

    @Test
    void secretsNeverAppearInToStringOrDescriptions() {
        RelayConfig config = RelayConfig.from(
                Map.of("RELAY_DB_PASSWORD", "pg-secret", "RELAY_RABBITMQ_URI", "amqp://relay:mq-secret@broker/"));
        assertThat(config.toString())
                .doesNotContain("pg-secret")
                .doesNotContain("mq-secret")
                .contains("<masked>");
        assertThat(config.describe()).doesNotContain("pg-secret").doesNotContain("mq-secret");
    }

    @Test
    void passwordsInTheDatabaseUrlAreMaskedWhereverItIsPrinted() {
        RelayConfig config = RelayConfig.from(
                Map.of(
                        "RELAY_DB_URL",
                        "jdbc:postgresql://db:5432/app?user=relay&password=pg-url-secret&sslmode=verify-full&sslpassword=key-secret"));
        assertThat(config.dbEndpoint())
                .isEqualTo(
                        "jdbc:postgresql://db:5432/app?user=relay&password=<masked>&sslmode=verify-full&sslpassword=<masked>");
        assertThat(config.describe() + config).doesNotContain("pg-url-secret").doesNotContain("key-secret");
        assertThat(config.dbUrl()).as("the driver still gets them").contains("pg-url-secret");
        assertThatThrownBy(() -> RelayConfig.from(Map.of("RELAY_DB_URL", "postgresql://db/app?password=pg-url-secret")))
                .hasMessageNotContaining("pg-url-secret")
                .hasMessageContaining("RELAY_DB_URL");
    }

    @Test
    void clusterAddressesReplaceTheUrisHost() {
        RelayConfig config = RelayConfig.from(Map.of("RELAY_RABBITMQ_ADDRESSES", "rabbit1:5672, rabbit2:5673,rabbit3"));
        assertThat(config.rabbitAddresses()).containsExactly("rabbit1:5672", "rabbit2:5673", "rabbit3");
        assertThat(config.rabbitEndpoint()).isEqualTo("amqp://rabbit1:5672,rabbit2:5673,rabbit3/%2F");
    }

    @Test
    void variablesNoSettingReadsAreReportedSoATypoDoesNotGoUnnoticed() {
        assertThat(RelayConfig.unknownVariables(Map.of(
                        "RELAY_SLOTT",
                        "x",
                        "RELAY_SLOT",
                        "y",
                        "RELAY_DB_PASSWORD_FILE",
                        "/f",
                        "RELAY_JAVA_OPTS",
                        "-Xmx1g",
                        "PATH",
                        "/bin",
                        "RELAY_HTTP_PORTS",
                        "1")))
                .containsExactly("RELAY_HTTP_PORTS", "RELAY_SLOTT");
    }
}
