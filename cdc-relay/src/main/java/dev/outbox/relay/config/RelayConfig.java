package dev.outbox.relay.config;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The relay's configuration: read once from the environment, validated at start, immutable.
 * Every error names the variable, the rule and the bad value (a secret's value is never shown).
 */
public record RelayConfig(
        String dbUrl,
        String dbUser,
        Secret dbPassword,
        String dbSchema,
        Secret rabbitUri,
        java.nio.file.Path rabbitCaFile,
        List<String> rabbitAddresses,
        String appId,
        String slot,
        String publication,
        int httpPort,
        boolean migrate,
        int maxBatchSize,
        int maxQueueSize,
        int maxQueueBytes,
        Duration pollInterval,
        int confirmWindow,
        int confirmWindowBytes,
        Duration confirmTimeout,
        Duration offsetFlushInterval,
        Duration heartbeatInterval,
        int maxMessageBytes,
        int maxParked,
        Duration shutdownTimeout,
        boolean captureDeadLetters,
        Duration eventsRetention,
        Duration deadLettersRetention,
        Duration pruneInterval,
        ConsoleAccess console,
        String logLevel,
        String logFormat) {

    private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
    private static final Pattern ADDRESS = Pattern.compile("[^\\s:,]+(:\\d{1,5})?");

    /** Read by scripts/relay, not by the relay itself. */
    private static final java.util.Set<String> LAUNCHER_VARIABLES =
            java.util.Set.of("RELAY_JAVA_OPTS", "RELAY_JAVA_EXTRA_OPTS", "RELAY_JAVA", "RELAY_JAR");

    /**
     * {@code RELAY_*} variables in {@code env} that no setting reads: most likely a typo, which
     * would otherwise leave the default in force without a word. Sorted.
     */
    public static List<String> unknownVariables(Map<String, String> env) {
        java.util.Set<String> known = new java.util.HashSet<>(LAUNCHER_VARIABLES);
        for (Setting s : Setting.values()) {
            known.add(s.variable());
            if (s.secret()) {
                known.add(s.variable() + "_FILE");
            }
        }
        return env.keySet().stream()
                .filter(k -> k.startsWith("RELAY_") && !known.contains(k))
                .sorted()
                .toList();
    }

    /** Reads the process environment. */
    public static RelayConfig fromEnv() {
        return from(System.getenv());
    }

    /** Reads {@code env}: the variables of {@link Setting}, each secret also as {@code <NAME>_FILE}. */
    public static RelayConfig from(Map<String, String> env) {
        Map<Setting, String> raw = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            raw.put(s, resolve(s, env));
        }
        String dbUrl = raw.get(Setting.DB_URL);
        if (!dbUrl.startsWith("jdbc:postgresql://")) {
            throw bad(Setting.DB_URL, "must start with jdbc:postgresql://", maskUrl(dbUrl));
        }
        String slot = raw.get(Setting.SLOT);
        if (!SLOT_NAME.matcher(slot).matches()) {
            throw bad(Setting.SLOT, "must be 1 to 63 of a-z 0-9 _ (PostgreSQL's rule for slot names)", slot);
        }
        String publication = raw.get(Setting.PUBLICATION).isEmpty() ? slot + "_events" : raw.get(Setting.PUBLICATION);
        if (!IDENTIFIER.matcher(publication).matches()) {
            throw bad(Setting.PUBLICATION, "must be a plain identifier of letters, digits and _", publication);
        }
        String schema = raw.get(Setting.DB_SCHEMA);
        if (!IDENTIFIER.matcher(schema).matches()) {
            throw bad(Setting.DB_SCHEMA, "must be a plain identifier of letters, digits and _", schema);
        }
        // As PostgreSQL reads an unquoted name: the relay's SQL, Debezium's table list and Flyway agree on one schema.
        schema = schema.toLowerCase(java.util.Locale.ROOT);
        Secret rabbitUri = new Secret(raw.get(Setting.RABBITMQ_URI));
        validateAmqpUri(rabbitUri.reveal());
        java.nio.file.Path caFile = null;
        if (!raw.get(Setting.RABBITMQ_CA_FILE).isBlank()) {
            caFile = java.nio.file.Path.of(raw.get(Setting.RABBITMQ_CA_FILE));
            if (!rabbitUri.reveal().startsWith("amqps:")) {
                throw new ConfigException(Setting.RABBITMQ_CA_FILE.variable() + " is set but "
                        + Setting.RABBITMQ_URI.variable() + " is not amqps://; use amqps:// for TLS, or unset "
                        + Setting.RABBITMQ_CA_FILE.variable());
            }
            if (!java.nio.file.Files.isReadable(caFile)) {
                throw bad(Setting.RABBITMQ_CA_FILE, "must be a readable PEM file", caFile.toString());
            }
            try {
                dev.outbox.protocol.BrokerTls.sslContext(caFile);
            } catch (java.security.GeneralSecurityException | java.io.IOException e) {
                throw bad(
                        Setting.RABBITMQ_CA_FILE,
                        "must hold PEM certificates (" + e.getMessage() + ")",
                        caFile.toString());
            }
        }
        String appId = raw.get(Setting.APP_ID);
        if (appId.isBlank() || appId.length() > 255) {
            throw bad(Setting.APP_ID, "must be 1 to 255 characters", appId);
        }
        String logLevel = raw.get(Setting.LOG_LEVEL).toUpperCase(Locale.ROOT);
        if (!List.of("ERROR", "WARN", "INFO", "DEBUG", "TRACE").contains(logLevel)) {
            throw bad(Setting.LOG_LEVEL, "must be one of ERROR, WARN, INFO, DEBUG, TRACE", raw.get(Setting.LOG_LEVEL));
        }
        String logFormat = raw.get(Setting.LOG_FORMAT).toLowerCase(Locale.ROOT);
        if (!List.of("text", "json").contains(logFormat)) {
            throw bad(Setting.LOG_FORMAT, "must be text or json", raw.get(Setting.LOG_FORMAT));
        }
        return new RelayConfig(
                        dbUrl,
                        nonBlank(Setting.DB_USER, raw.get(Setting.DB_USER)),
                        new Secret(raw.get(Setting.DB_PASSWORD)),
                        schema,
                        rabbitUri,
                        caFile,
                        addresses(raw.get(Setting.RABBITMQ_ADDRESSES)),
                        appId,
                        slot,
                        publication,
                        intIn(Setting.HTTP_PORT, raw.get(Setting.HTTP_PORT), 1, 65535),
                        bool(Setting.MIGRATE, raw.get(Setting.MIGRATE)),
                        intIn(Setting.MAX_BATCH_SIZE, raw.get(Setting.MAX_BATCH_SIZE), 1, 65536),
                        intIn(Setting.MAX_QUEUE_SIZE, raw.get(Setting.MAX_QUEUE_SIZE), 2, 1 << 20),
                        intIn(Setting.MAX_QUEUE_BYTES, raw.get(Setting.MAX_QUEUE_BYTES), 1 << 20, 1 << 30),
                        Duration.ofMillis(
                                intIn(Setting.POLL_INTERVAL_MS, raw.get(Setting.POLL_INTERVAL_MS), 1, 60_000)),
                        intIn(Setting.CONFIRM_WINDOW, raw.get(Setting.CONFIRM_WINDOW), 1, 1 << 20),
                        intIn(Setting.CONFIRM_WINDOW_BYTES, raw.get(Setting.CONFIRM_WINDOW_BYTES), 1 << 20, 1 << 30),
                        Duration.ofMillis(
                                intIn(Setting.CONFIRM_TIMEOUT_MS, raw.get(Setting.CONFIRM_TIMEOUT_MS), 100, 3_600_000)),
                        Duration.ofMillis(intIn(
                                Setting.OFFSET_FLUSH_INTERVAL_MS,
                                raw.get(Setting.OFFSET_FLUSH_INTERVAL_MS),
                                0,
                                60_000)),
                        Duration.ofMillis(intIn(
                                Setting.HEARTBEAT_INTERVAL_MS, raw.get(Setting.HEARTBEAT_INTERVAL_MS), 0, 3_600_000)),
                        intIn(Setting.MAX_MESSAGE_BYTES, raw.get(Setting.MAX_MESSAGE_BYTES), 1024, 536_870_912),
                        intIn(Setting.MAX_PARKED, raw.get(Setting.MAX_PARKED), 0, 1_000_000),
                        Duration.ofMillis(
                                intIn(Setting.SHUTDOWN_TIMEOUT_MS, raw.get(Setting.SHUTDOWN_TIMEOUT_MS), 0, 3_600_000)),
                        bool(Setting.CAPTURE_DEAD_LETTERS, raw.get(Setting.CAPTURE_DEAD_LETTERS)),
                        Duration.ofHours(intIn(
                                Setting.EVENTS_RETENTION_HOURS, raw.get(Setting.EVENTS_RETENTION_HOURS), 0, 876_000)),
                        Duration.ofHours(intIn(
                                Setting.DEAD_LETTERS_RETENTION_HOURS,
                                raw.get(Setting.DEAD_LETTERS_RETENTION_HOURS),
                                0,
                                876_000)),
                        Duration.ofMillis(
                                intIn(Setting.PRUNE_INTERVAL_MS, raw.get(Setting.PRUNE_INTERVAL_MS), 100, 86_400_000)),
                        console(raw),
                        logLevel,
                        logFormat)
                .checkedAgainstEachOther();
    }

    private static ConsoleAccess console(Map<Setting, String> raw) {
        Secret token = new Secret(raw.get(Setting.CONSOLE_TOKEN));
        String user = raw.get(Setting.CONSOLE_USER);
        Secret password = new Secret(raw.get(Setting.CONSOLE_PASSWORD));
        if (!token.isEmpty() && token.reveal().length() < 16) {
            throw new ConfigException(Setting.CONSOLE_TOKEN.variable()
                    + " must be at least 16 characters (a guessable token guards replay and discard);"
                    + " e.g. openssl rand -hex 24");
        }
        if (user.isEmpty() != password.isEmpty()) {
            throw new ConfigException("set both " + Setting.CONSOLE_USER.variable() + " and "
                    + Setting.CONSOLE_PASSWORD.variable() + ", or neither (only "
                    + (user.isEmpty() ? Setting.CONSOLE_PASSWORD.variable() : Setting.CONSOLE_USER.variable())
                    + " is set)");
        }
        if (!password.isEmpty() && password.reveal().length() < 8) {
            throw new ConfigException(Setting.CONSOLE_PASSWORD.variable() + " must be at least 8 characters");
        }
        return new ConsoleAccess(
                token, user, password, bool(Setting.CONSOLE_ANONYMOUS_READ, raw.get(Setting.CONSOLE_ANONYMOUS_READ)));
    }

    /**
     * Who may use the console. It is served when a credential is set or anonymous reading is on;
     * replay and discard always need a credential.
     */
    public record ConsoleAccess(Secret token, String user, Secret password, boolean anonymousRead) {
        public boolean enabled() {
            return !token.isEmpty() || !user.isEmpty() || anonymousRead;
        }

        public boolean hasCredentials() {
            return !token.isEmpty() || !user.isEmpty();
        }
    }

    private RelayConfig checkedAgainstEachOther() {
        if (maxQueueSize <= maxBatchSize) {
            throw new ConfigException(Setting.MAX_QUEUE_SIZE.variable() + " must be larger than "
                    + Setting.MAX_BATCH_SIZE.variable() + " (was " + maxQueueSize + " <= " + maxBatchSize + ")");
        }
        return this;
    }

    private static String resolve(Setting s, Map<String, String> env) {
        String direct = env.get(s.variable());
        if (s.secret()) {
            String file = env.get(s.variable() + "_FILE");
            if (file != null && !file.isBlank()) {
                if (direct != null && !direct.isEmpty()) {
                    throw new ConfigException("set either " + s.variable() + " or " + s.variable() + "_FILE, not both");
                }
                try {
                    // A trailing newline is how editors and `echo` end files; it is never part of a secret.
                    return Files.readString(Path.of(file), StandardCharsets.UTF_8)
                            .stripTrailing();
                } catch (IOException e) {
                    throw new ConfigException(s.variable() + "_FILE must name a readable file (was " + file + ": "
                            + e.getClass().getSimpleName() + ")");
                }
            }
        }
        return direct == null ? s.defaultValue() : direct.trim();
    }

    private static void validateAmqpUri(String uri) {
        try {
            URI parsed = new URI(uri);
            String scheme = parsed.getScheme();
            if (!"amqp".equals(scheme) && !"amqps".equals(scheme)) {
                throw new ConfigException(Setting.RABBITMQ_URI.variable()
                        + " must start with amqp:// or amqps:// (was scheme " + scheme + ")");
            }
            if (parsed.getHost() == null) {
                throw new ConfigException(
                        Setting.RABBITMQ_URI.variable() + " must name a host (amqp://user:pass@host:port/vhost)");
            }
            if (parsed.getPort() == 0 || parsed.getPort() > 65535) {
                throw new ConfigException(
                        Setting.RABBITMQ_URI.variable() + " port must be 1..65535 (was " + parsed.getPort() + ")");
            }
        } catch (URISyntaxException e) {
            // The reason, not the input: the URI carries the password.
            throw new ConfigException(Setting.RABBITMQ_URI.variable() + " is not a valid URI: " + e.getReason()
                    + " at index " + e.getIndex());
        }
    }

    private static List<String> addresses(String value) {
        List<String> result = new ArrayList<>();
        if (value.isBlank()) {
            return result;
        }
        for (String part : value.split(",")) {
            String address = part.trim();
            if (!ADDRESS.matcher(address).matches()) {
                throw bad(Setting.RABBITMQ_ADDRESSES, "must be a comma-separated list of host or host:port", value);
            }
            int colon = address.indexOf(':');
            if (colon > 0) {
                intIn(Setting.RABBITMQ_ADDRESSES, address.substring(colon + 1), 1, 65535);
            }
            result.add(address);
        }
        return List.copyOf(result);
    }

    private static String nonBlank(Setting s, String value) {
        if (value.isBlank()) {
            throw bad(s, "must not be empty", value);
        }
        return value;
    }

    private static int intIn(Setting s, String value, int min, int max) {
        int parsed;
        try {
            parsed = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw bad(s, "must be a whole number in " + min + ".." + max, value);
        }
        if (parsed < min || parsed > max) {
            throw bad(s, "must be " + min + ".." + max, value);
        }
        return parsed;
    }

    private static boolean bool(Setting s, String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw bad(s, "must be true or false", value);
        };
    }

    private static ConfigException bad(Setting s, String rule, String value) {
        String shown = s.secret() ? "<masked>" : value;
        return new ConfigException(s.variable() + " " + rule + " (was " + shown + ")");
    }

    /** The SDK's view of the broker: same URI, addresses and app id. */
    public dev.outbox.sdk.BrokerConfig brokerConfig(String purpose) {
        return new dev.outbox.sdk.BrokerConfig(
                rabbitUri.reveal(), rabbitAddresses, appId + "-" + purpose, rabbitCaFile);
    }

    /** Connection settings for log lines: no secrets. */
    public String describe() {
        return "database " + dbEndpoint() + " as " + dbUser + ", broker " + rabbitEndpoint() + ", slot " + slot
                + ", publication " + publication;
    }

    /** No secrets: the record's own form would print {@code RELAY_DB_URL} with its password parameters. */
    @Override
    public String toString() {
        return "RelayConfig[" + describe() + ", dbPassword=" + dbPassword + ", rabbitUri=" + rabbitUri + "]";
    }

    /** {@code RELAY_DB_URL} as it may be printed: the values of {@code password=} and {@code sslpassword=} masked. */
    public String dbEndpoint() {
        return maskUrl(dbUrl);
    }

    private static final java.util.regex.Pattern URL_SECRET =
            java.util.regex.Pattern.compile("(?i)([?&](?:ssl)?password=)[^&]*");

    static String maskUrl(String url) {
        return URL_SECRET.matcher(url).replaceAll("$1<masked>");
    }

    /** The broker's scheme, host(s) and virtual host, without credentials. */
    public String rabbitEndpoint() {
        URI uri = URI.create(rabbitUri.reveal());
        String hosts = rabbitAddresses.isEmpty()
                ? uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "")
                : String.join(",", rabbitAddresses);
        return uri.getScheme() + "://" + hosts + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }

    /** A secret value: shown as {@code <masked>} by {@code toString()}, so it cannot leak into a log line by accident. */
    public record Secret(String value) {
        public String reveal() {
            return value;
        }

        public boolean isEmpty() {
            return value == null || value.isEmpty();
        }

        @Override
        public String toString() {
            return isEmpty() ? "<empty>" : "<masked>";
        }
    }
}
