package dev.outbox.relay.config;

/**
 * Every environment variable the relay reads: name, default and meaning, declared once.
 * The configuration table of docs/operating.md is checked against this list by a test.
 */
public enum Setting {
    DB_URL(
            "RELAY_DB_URL",
            "jdbc:postgresql://localhost:5432/postgres",
            "JDBC URL of the database holding the events table (sslmode, sslrootcert ... are honoured)."),
    DB_USER("RELAY_DB_USER", "postgres", "Database role; needs LOGIN and REPLICATION."),
    DB_PASSWORD("RELAY_DB_PASSWORD", "", "Database password (secret; or RELAY_DB_PASSWORD_FILE).", true),
    DB_SCHEMA(
            "RELAY_DB_SCHEMA",
            "public",
            "Schema of the outbox tables (events, dead_letters, relay_offsets); read as PostgreSQL reads an unquoted name, so in lower case."),
    RABBITMQ_URI(
            "RELAY_RABBITMQ_URI",
            "amqp://guest:guest@localhost:5672/%2F",
            "AMQP URI: credentials, virtual host, amqps:// for TLS (secret; or RELAY_RABBITMQ_URI_FILE).",
            true),
    RABBITMQ_CA_FILE(
            "RELAY_RABBITMQ_CA_FILE",
            "",
            "For amqps://: PEM file of the CA(s) that signed RabbitMQ's certificate; empty trusts the JVM's trust store. The host name is always verified."),
    RABBITMQ_ADDRESSES(
            "RELAY_RABBITMQ_ADDRESSES",
            "",
            "Comma-separated host:port list of a cluster; when set it replaces the URI's host and port."),
    APP_ID("RELAY_APP_ID", "cdc-relay", "AMQP app-id of every published message."),
    SLOT(
            "RELAY_SLOT",
            "cdc_relay",
            "Replication slot name: 1 to 63 of a-z 0-9 _. Also names the publication and the offsets."),
    PUBLICATION(
            "RELAY_PUBLICATION",
            "",
            "Publication covering the events table only; empty means <slot>_events. Created if missing."),
    HTTP_PORT("RELAY_HTTP_PORT", "8080", "Port of /health/live, /health/ready and /metrics."),
    MIGRATE("RELAY_MIGRATE", "true", "Apply the schema migrations at start (run); false when a DBA applies them."),
    MAX_BATCH_SIZE("RELAY_MAX_BATCH_SIZE", "1024", "Most events Debezium hands over in one batch."),
    MAX_QUEUE_SIZE(
            "RELAY_MAX_QUEUE_SIZE",
            "2048",
            "Events Debezium buffers between the WAL reader and the publisher."
                    + " Two batches are enough to keep the publisher busy; more only keeps events alive through more young collections."),
    MAX_QUEUE_BYTES(
            "RELAY_MAX_QUEUE_BYTES",
            "16777216",
            "Most bytes of events (as Debezium estimates them) buffered between the WAL reader and the publisher; one larger event still passes, alone. With RELAY_CONFIRM_WINDOW_BYTES, what keeps large payloads within the heap."),
    POLL_INTERVAL_MS(
            "RELAY_POLL_INTERVAL_MS",
            "2",
            "How long the WAL reader sleeps between polls where it cannot wait on its socket (at start, before streaming; or with a pgjdbc whose stream it cannot reach, which a WARN says). Streaming, it waits for the first byte of a change and wakes at once (decision 017). Events are handed over as soon as they are read; a batch holds what arrived while the previous one was published."),
    CONFIRM_WINDOW("RELAY_CONFIRM_WINDOW", "1024", "Most published messages awaiting a broker confirm at once."),
    CONFIRM_WINDOW_BYTES(
            "RELAY_CONFIRM_WINDOW_BYTES",
            "16777216",
            "Most body bytes awaiting a broker confirm at once; one larger message still goes, alone."),
    CONFIRM_TIMEOUT_MS(
            "RELAY_CONFIRM_TIMEOUT_MS",
            "30000",
            "How long to wait for confirms before the unconfirmed messages are published again."),
    OFFSET_FLUSH_INTERVAL_MS(
            "RELAY_OFFSET_FLUSH_INTERVAL_MS",
            "100",
            "The confirmed position is stored in relay_offsets and acknowledged to PostgreSQL at the end of a batch at most every N ms (0: after every batch). Each time costs Debezium a serialisation and a re-read of the offsets, most of the relay's work at low rates when done per batch; a crash publishes again up to N ms of events more."),
    HEARTBEAT_INTERVAL_MS(
            "RELAY_HEARTBEAT_INTERVAL_MS",
            "10000",
            "How often the slot is moved on while events is idle, so WAL does not pile up; 0 turns it off."),
    MAX_MESSAGE_BYTES(
            "RELAY_MAX_MESSAGE_BYTES",
            "134217728",
            "Largest body the broker accepts (RabbitMQ max_message_size); a larger event goes to DLX as relay_error."),
    MAX_PARKED(
            "RELAY_MAX_PARKED",
            "10000",
            "Most messages waiting behind a nack (a full queue): the nacked ones, retried with backoff, and the later ones of their routing keys, held back to keep order; other keys flow meanwhile. Past it the stream waits. 0: always wait."),
    SHUTDOWN_TIMEOUT_MS("RELAY_SHUTDOWN_TIMEOUT_MS", "30000", "On SIGTERM, how long to wait for outstanding confirms."),
    CAPTURE_DEAD_LETTERS(
            "RELAY_CAPTURE_DEAD_LETTERS",
            "true",
            "Run the dead-letter capture in the relay: messages in the dead_letters and unrouted queues are stored in the dead_letters table."),
    EVENTS_RETENTION_HOURS(
            "RELAY_EVENTS_RETENTION_HOURS",
            "72",
            "events rows older than this are deleted, in small batches, once every logical slot of the database has confirmed them; 0 keeps every row."),
    DEAD_LETTERS_RETENTION_HOURS(
            "RELAY_DEAD_LETTERS_RETENTION_HOURS",
            "720",
            "dead_letters rows replayed or discarded longer ago than this are deleted; rows still new are kept whatever their age; 0 keeps every row."),
    PRUNE_INTERVAL_MS("RELAY_PRUNE_INTERVAL_MS", "60000", "How often the retention rules run while the relay streams."),
    CONSOLE_TOKEN(
            "RELAY_CONSOLE_TOKEN",
            "",
            "Token that signs in to the console (/console) and its API (Authorization: Bearer); at least 16 characters. Setting it or a user turns the console on (secret; or RELAY_CONSOLE_TOKEN_FILE).",
            true),
    CONSOLE_USER("RELAY_CONSOLE_USER", "", "User name that signs in to the console, with RELAY_CONSOLE_PASSWORD."),
    CONSOLE_PASSWORD(
            "RELAY_CONSOLE_PASSWORD",
            "",
            "Password of RELAY_CONSOLE_USER; at least 8 characters (secret; or RELAY_CONSOLE_PASSWORD_FILE).",
            true),
    CONSOLE_ANONYMOUS_READ(
            "RELAY_CONSOLE_ANONYMOUS_READ",
            "false",
            "true lets anyone who reaches the HTTP port read the console (overview, dead letters with their bodies, audit); replay and discard always need a credential."),
    LOG_LEVEL("RELAY_LOG_LEVEL", "INFO", "Level of the relay's own loggers: ERROR, WARN, INFO, DEBUG or TRACE."),
    LOG_FORMAT("RELAY_LOG_FORMAT", "text", "text for people, json for log collectors (one JSON object a line).");

    private final String variable;
    private final String defaultValue;
    private final String description;
    private final boolean secret;

    Setting(String variable, String defaultValue, String description) {
        this(variable, defaultValue, description, false);
    }

    Setting(String variable, String defaultValue, String description, boolean secret) {
        this.variable = variable;
        this.defaultValue = defaultValue;
        this.description = description;
        this.secret = secret;
    }

    /** The environment variable, e.g. {@code RELAY_DB_URL}. */
    public String variable() {
        return variable;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    /** Secrets may also come from {@code <variable>_FILE} and are masked wherever they are shown. */
    public boolean secret() {
        return secret;
    }
}
