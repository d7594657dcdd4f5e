package dev.outbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.testing.PostgresFixture;
import dev.outbox.testing.TestDatabase;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

class MigrationsIT {

    @Test
    void runTwiceOnADatabaseThatAlreadyHasTablesAndItsOwnFlywayHistory() {
        try (TestDatabase db = PostgresFixture.get().createDatabase("migrations")) {
            db.execute("CREATE TABLE customers (id bigint PRIMARY KEY, name text)");
            db.execute("INSERT INTO customers VALUES (1, 'kept')");
            // An application with its own Flyway history must not be disturbed by ours.
            db.execute("CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version text)");

            MigrateResult first = Migrations.apply(db.dataSource());
            MigrateResult second = Migrations.apply(db.dataSource());

            assertThat(first.migrationsExecuted).isEqualTo(migrationScripts());
            assertThat(second.migrationsExecuted).isZero();
            assertThat(db.queryLong("SELECT count(*) FROM customers")).isEqualTo(1);
            assertThat(db.queryLong("SELECT count(*) FROM flyway_schema_history"))
                    .isZero();
            assertThat(db.queryLong("SELECT count(*) FROM information_schema.tables WHERE table_name IN"
                            + " ('events', 'dead_letters', 'relay_offsets', 'inbox')"))
                    .isEqualTo(4);
        }
    }

    @Test
    void migrationsAreIdempotentEvenWithoutTheirHistory() {
        try (TestDatabase db = PostgresFixture.get().createDatabase("migrations_rerun")) {
            Migrations.apply(db.dataSource());
            // Someone dropped our history table (or restored a dump without it): the scripts
            // themselves must still run cleanly over the existing tables.
            db.execute("DROP TABLE " + Migrations.HISTORY_TABLE);
            MigrateResult again = Migrations.apply(db.dataSource());
            assertThat(again.migrationsExecuted).isEqualTo(migrationScripts());
        }
    }

    @Test
    void migratesIntoANamedSchema() {
        try (TestDatabase db = PostgresFixture.get().createDatabase("migrations_schema")) {
            Migrations.apply(db.dataSource(), "outbox");
            assertThat(db.queryLong("SELECT count(*) FROM information_schema.tables"
                            + " WHERE table_schema = 'outbox' AND table_name = 'events'"))
                    .isEqualTo(1);
        }
    }

    /** Every script in the module's migration folder runs, the newest too. */
    private static int migrationScripts() {
        try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(
                java.nio.file.Path.of("src", "main", "resources", "dev", "outbox", "db", "migration"))) {
            return (int) files.filter(f -> f.getFileName().toString().matches("V\\d+__.*\\.sql"))
                    .count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
