package dev.outbox.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The PostgreSQL every integration test uses: the one named by {@code OUTBOX_TEST_PG_URL}
 * (default {@code jdbc:postgresql://127.0.0.1:5432/postgres}, user {@code OUTBOX_TEST_PG_USER}
 * [postgres], password {@code OUTBOX_TEST_PG_PASSWORD} [empty]); where none answers and a Docker
 * engine does, a Testcontainers PostgreSQL with {@code wal_level=logical}.
 *
 * <p>Each test gets its own database from {@link #createDatabase}, so tests never see each
 * other's rows or replication slots and can run again and again on the same server.
 */
public final class PostgresFixture {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresFixture.class);
    /** Databases this fixture creates start with this; a leftover older than STALE_SECONDS is dropped. */
    static final String PREFIX = "it_";

    private static final long STALE_SECONDS = 3 * 3600;

    private static volatile PostgresFixture instance;

    private final String adminUrl;
    private final String user;
    private final String password;

    private PostgresFixture(String adminUrl, String user, String password) {
        this.adminUrl = adminUrl;
        this.user = user;
        this.password = password;
    }

    /** The shared server, found (or started) on first use. */
    public static PostgresFixture get() {
        PostgresFixture result = instance;
        if (result == null) {
            synchronized (PostgresFixture.class) {
                result = instance;
                if (result == null) {
                    result = locate();
                    result.dropStaleDatabases();
                    instance = result;
                }
            }
        }
        return result;
    }

    private static PostgresFixture locate() {
        String url = env("OUTBOX_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/postgres");
        String user = env("OUTBOX_TEST_PG_USER", "postgres");
        String password = env("OUTBOX_TEST_PG_PASSWORD", "");
        PostgresFixture configured = new PostgresFixture(url, user, password);
        SQLException failure;
        try (Connection ignored = configured.admin()) {
            return configured;
        } catch (SQLException e) {
            failure = e;
        }
        if (DockerClientFactory.instance().isDockerAvailable()) {
            LOG.info("No PostgreSQL at {} ({}); starting one with Testcontainers", url, failure.getMessage());
            PostgreSQLContainer container = new PostgreSQLContainer("postgres:15")
                    .withCommand(
                            "postgres",
                            "-c",
                            "wal_level=logical",
                            "-c",
                            "max_replication_slots=40",
                            "-c",
                            "max_wal_senders=40");
            container.start();
            return new PostgresFixture(container.getJdbcUrl(), container.getUsername(), container.getPassword());
        }
        throw new IllegalStateException(
                "No PostgreSQL answers at " + url + " (" + failure.getMessage()
                        + ") and no Docker engine is available. Run scripts/local-services, or set OUTBOX_TEST_PG_URL.",
                failure);
    }

    /** A new, empty database for one test class. Close it to drop it with its replication slots. */
    public TestDatabase createDatabase(String purpose) {
        String clean = purpose.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
        if (clean.length() > 30) {
            clean = clean.substring(0, 30);
        }
        String name = PREFIX + clean + "_" + Instant.now().getEpochSecond() + "_"
                + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 20, 1 << 24), 36);
        execute("CREATE DATABASE " + name);
        return new TestDatabase(this, name, jdbcUrlFor(name), user, password);
    }

    /** A connection to the maintenance database (for CREATE DATABASE, slots, roles). */
    public Connection admin() throws SQLException {
        return connect(adminUrl);
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    /** The JDBC URL of {@code database} on this server. */
    public String jdbcUrlFor(String database) {
        int slash = adminUrl.indexOf('/', "jdbc:postgresql://".length());
        int query = adminUrl.indexOf('?', slash);
        String tail = query < 0 ? "" : adminUrl.substring(query);
        return adminUrl.substring(0, slash + 1) + database + tail;
    }

    Connection connect(String url) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "5");
        return DriverManager.getConnection(url, props);
    }

    void execute(String sql) {
        try (Connection c = admin();
                Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    void dropDatabase(String name) {
        try (Connection c = admin();
                Statement s = c.createStatement()) {
            // A slot pins WAL forever: drop the database's slots first (ending their walsenders).
            s.execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots" + " WHERE database = '" + name
                    + "' AND active_pid IS NOT NULL");
            for (int attempt = 0; attempt < 50; attempt++) {
                try {
                    s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                            + " WHERE database = '" + name + "'");
                    break;
                } catch (SQLException stillActive) {
                    sleepBriefly();
                }
            }
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (SQLException e) {
            LOG.warn("Could not drop test database {}: {}", name, e.getMessage());
        }
    }

    private void dropStaleDatabases() {
        List<String> stale = new ArrayList<>();
        long now = Instant.now().getEpochSecond();
        try (Connection c = admin();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT datname FROM pg_database WHERE datname LIKE 'it\\_%'")) {
            while (rs.next()) {
                String name = rs.getString(1);
                String[] parts = name.split("_");
                try {
                    long created = Long.parseLong(parts[parts.length - 2]);
                    if (now - created > STALE_SECONDS) {
                        stale.add(name);
                    }
                } catch (NumberFormatException | ArrayIndexOutOfBoundsException notOurs) {
                    // not a name this fixture made
                }
            }
        } catch (SQLException e) {
            LOG.warn("Could not list stale test databases: {}", e.getMessage());
        }
        stale.forEach(this::dropDatabase);
    }

    @SuppressWarnings("BusyWait")
    private static void sleepBriefly() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
