package dev.outbox.relay.engine;

import dev.outbox.relay.config.RelayConfig;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/** The relay's way into PostgreSQL: plain connections, a DataSource, and the URL's parts for Debezium. */
public final class Database {

    private final RelayConfig config;

    public Database(RelayConfig config) {
        this.config = config;
    }

    public Connection open() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", config.dbUser());
        props.setProperty("password", config.dbPassword().reveal());
        props.setProperty("ApplicationName", "cdc-relay");
        props.setProperty("connectTimeout", "10");
        props.setProperty("tcpKeepAlive", "true");
        if (!"public".equals(config.dbSchema())) {
            // Unqualified names (dead_letters for the capture and the CLI) resolve in RELAY_DB_SCHEMA.
            props.setProperty("currentSchema", config.dbSchema());
        }
        return DriverManager.getConnection(config.dbUrl(), props);
    }

    public DataSource dataSource() {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(config.dbUrl());
        ds.setUser(config.dbUser());
        ds.setPassword(config.dbPassword().reveal());
        ds.setApplicationName("cdc-relay");
        if (!"public".equals(config.dbSchema())) {
            ds.setCurrentSchema(config.dbSchema());
        }
        return ds;
    }

    /** Applies the outbox migrations to RELAY_DB_SCHEMA (the search path's default for public). */
    public org.flywaydb.core.api.output.MigrateResult migrate() {
        return dev.outbox.db.Migrations.apply(
                dataSource(), "public".equals(config.dbSchema()) ? null : config.dbSchema());
    }

    /** Host, port, database and the query parameters of {@code RELAY_DB_URL}. */
    public record UrlParts(String host, int port, String database, Map<String, String> parameters) {}

    public static UrlParts parse(String jdbcUrl) {
        URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
        String path = uri.getPath() == null || uri.getPath().length() <= 1
                ? "postgres"
                : uri.getPath().substring(1);
        Map<String, String> params = new LinkedHashMap<>();
        if (uri.getQuery() != null) {
            for (String pair : uri.getQuery().split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    params.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            }
        }
        return new UrlParts(
                uri.getHost() == null ? "localhost" : uri.getHost(),
                uri.getPort() < 0 ? 5432 : uri.getPort(),
                path,
                params);
    }

    /** Closes a connection that may already be broken, as the periodic tasks do before opening another. */
    static void closeQuietly(java.sql.Connection connection) {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // broken anyway
            }
        }
    }
}
