package dev.outbox.db;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the outbox schema ({@code events}, {@code dead_letters}, {@code relay_offsets},
 * {@code inbox}) with Flyway, from {@code classpath:dev/outbox/db/migration} (not Flyway's default {@code db/migration}, so an application's own Flyway never picks these up).
 *
 * <p>Safe on a database that already has tables and on one where it already ran: the history
 * is kept in its own table, {@value #HISTORY_TABLE}, so it never meets an application's own
 * Flyway history, and every statement is idempotent.
 */
public final class Migrations {

    /** Flyway's history table for the outbox schema. */
    public static final String HISTORY_TABLE = "outbox_schema_history";

    private static final Logger LOG = LoggerFactory.getLogger(Migrations.class);

    private Migrations() {}

    /** Migrates the schema the connection's search path points at (usually {@code public}). */
    public static MigrateResult apply(DataSource dataSource) {
        return apply(dataSource, null);
    }

    /** Migrates {@code schema} (created if missing), or the default schema when {@code null}. */
    public static MigrateResult apply(DataSource dataSource, String schema) {
        var config = Flyway.configure(Migrations.class.getClassLoader())
                .dataSource(dataSource)
                .locations("classpath:dev/outbox/db/migration")
                .table(HISTORY_TABLE)
                // A database with other tables but no history of ours is normal, not an error:
                // baseline at 0 so that our V1 still runs.
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .validateMigrationNaming(true);
        if (schema != null) {
            config.schemas(schema).createSchemas(true);
        }
        MigrateResult result = config.load().migrate();
        if (result.migrationsExecuted > 0) {
            LOG.info(
                    "Outbox schema migrated to version {} ({} migrations applied)",
                    result.targetSchemaVersion,
                    result.migrationsExecuted);
        } else {
            LOG.debug("Outbox schema up to date at version {}", result.initialSchemaVersion);
        }
        return result;
    }
}
