package dev.outbox.relay.cli;

import dev.outbox.relay.Relay;
import dev.outbox.relay.config.ConfigException;
import dev.outbox.relay.config.EnvironmentException;
import dev.outbox.relay.config.RelayConfig;
import dev.outbox.relay.engine.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar cdc-relay.jar [run|migrate|reset-offsets]}. Configuration comes from the
 * environment (docs/operating.md). Exit codes: 0 done, 1 unexpected failure, 2 invalid
 * configuration, 3 the environment needs a change (the message says which).
 */
@Command(
        name = "cdc-relay",
        mixinStandardHelpOptions = true,
        version = "cdc-relay 0.1.0",
        description = "Streams committed rows of the events table from the PostgreSQL WAL to RabbitMQ.",
        subcommands = {
            RelayCli.Run.class,
            RelayCli.Migrate.class,
            StatusCommand.class,
            DeadLettersCommand.class,
            TailCommand.class,
            PublishCommand.class,
            RepublishCommand.class,
            RelayCli.ResetOffsets.class,
            RelayCli.Health.class
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:done",
            "1:unexpected failure",
            "2:invalid configuration or input (the message names the variable)",
            "3:the environment needs a change (the message says what)"
        })
public final class RelayCli implements Callable<Integer> {

    public static final int CONFIG_ERROR = 2;
    public static final int ENVIRONMENT_ERROR = 3;

    /** The exit code main decided on; the shutdown hook uses it after a signal. */
    private static volatile Integer mainExitCode;

    private static final java.util.concurrent.CountDownLatch MAIN_DONE = new java.util.concurrent.CountDownLatch(1);

    public static void main(String[] args) {
        int code = execute(args);
        mainExitCode = code;
        MAIN_DONE.countDown();
        System.exit(code);
    }

    /** Runs the command line and returns its exit code (for tests). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new RelayCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof dev.outbox.protocol.InvalidEventException) {
                System.err.println("cdc-relay: invalid input: " + e.getMessage());
                return CONFIG_ERROR;
            }
            if (e instanceof ConfigException) {
                System.err.println("cdc-relay: invalid configuration: " + e.getMessage());
                return CONFIG_ERROR;
            }
            if (e instanceof EnvironmentException) {
                LoggerFactory.getLogger(RelayCli.class).error("{}", e.getMessage());
                System.err.println("cdc-relay: cannot start: " + e.getMessage());
                return ENVIRONMENT_ERROR;
            }
            LoggerFactory.getLogger(RelayCli.class).error("cdc-relay failed", e);
            return 1;
        });
        return cli.execute(args);
    }

    /** No subcommand: {@code run}. */
    @Override
    public Integer call() throws Exception {
        return new Run().call();
    }

    @Command(
            name = "run",
            mixinStandardHelpOptions = true,
            description = "Stream events to RabbitMQ until SIGTERM (the default command).")
    static final class Run implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            RelayConfig config = RelayConfig.fromEnv();
            Relay relay = new Relay(config);
            Logger log = LoggerFactory.getLogger(Relay.class);
            for (String unknown : RelayConfig.unknownVariables(System.getenv())) {
                log.warn(
                        "{} is set but no setting reads it (a typo?); docs/operating.md's configuration table lists them",
                        unknown);
            }
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                if (mainExitCode != null) {
                                    return; // main is exiting with its own code (System.exit), not on a signal
                                }
                                try {
                                    relay.stop();
                                    MAIN_DONE.await(
                                            config.shutdownTimeout().toMillis() + 10_000,
                                            java.util.concurrent.TimeUnit.MILLISECONDS);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                                // A JVM ending on SIGTERM reports 143 even after a clean stop; report the real outcome,
                                // since orchestrators read a non-zero code as a crash.
                                Integer code = mainExitCode;
                                Runtime.getRuntime().halt(code == null ? 1 : code);
                            },
                            "relay-shutdown"));
            try {
                relay.run();
            } catch (InterruptedException e) {
                log.info("Interrupted; exiting");
            }
            return 0;
        }
    }

    @Command(
            name = "migrate",
            mixinStandardHelpOptions = true,
            description = "Apply the schema migrations (events, dead_letters, relay_offsets, inbox) and exit.")
    static final class Migrate implements Callable<Integer> {
        @Override
        public Integer call() {
            RelayConfig config = RelayConfig.fromEnv();
            var result = new Database(config).migrate();
            System.out.println("schema at version "
                    + (result.targetSchemaVersion == null ? result.initialSchemaVersion : result.targetSchemaVersion)
                    + " (" + result.migrationsExecuted + " migrations applied)");
            return 0;
        }
    }

    @Command(
            name = "reset-offsets",
            mixinStandardHelpOptions = true,
            description = {
                "Forget the stored stream position of RELAY_SLOT, so the next run starts a new slot.",
                "Use it only to recover from a dropped slot, together with republish to close the gap."
            })
    static final class ResetOffsets implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            RelayConfig config = RelayConfig.fromEnv();
            try (Connection c = new Database(config).open();
                    PreparedStatement ps = c.prepareStatement(
                            "DELETE FROM " + config.dbSchema() + ".relay_offsets WHERE slot_name = ?")) {
                ps.setString(1, config.slot());
                int rows = ps.executeUpdate();
                System.out.println("forgot " + rows + " offset entries of slot " + config.slot());
            }
            return 0;
        }
    }

    @Command(
            name = "health",
            mixinStandardHelpOptions = true,
            description =
                    "Exit 0 when the relay on RELAY_HTTP_PORT of this host is ready, 1 otherwise (container health checks).")
    static final class Health implements Callable<Integer> {
        @Override
        public Integer call() {
            RelayConfig config = RelayConfig.fromEnv();
            try {
                var response = java.net.http.HttpClient.newHttpClient()
                        .send(
                                java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                                                "http://127.0.0.1:" + config.httpPort() + "/health/ready"))
                                        .timeout(java.time.Duration.ofSeconds(3))
                                        .build(),
                                java.net.http.HttpResponse.BodyHandlers.ofString());
                System.out.println(response.body());
                return response.statusCode() == 200 ? 0 : 1;
            } catch (Exception e) {
                System.out.println("relay not answering on port " + config.httpPort() + ": "
                        + e.getClass().getSimpleName());
                return 1;
            }
        }
    }
}
