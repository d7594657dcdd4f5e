package dev.outbox.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Faults injected into the local PostgreSQL cluster (Debian's pg_ctlcluster; the fixture's server must be local). */
public final class DatabaseFaults {

    private DatabaseFaults() {}

    /** Restarts the cluster on port 5432 with {@code mode} ({@code fast} or {@code immediate}) and waits until it answers. */
    public static void restartPostgres(String mode) {
        String version = run("bash", "-c", "pg_lsclusters --no-header | awk '$3 == 5432 {print $1; exit}'")
                .trim();
        String name = run("bash", "-c", "pg_lsclusters --no-header | awk '$3 == 5432 {print $2; exit}'")
                .trim();
        if (version.isEmpty()) {
            throw new IllegalStateException("no local PostgreSQL cluster on port 5432 to restart");
        }
        run("pg_ctlcluster", "--skip-systemctl-redirect", "-m", mode, version, name, "restart");
        run(
                "bash",
                "-c",
                "for i in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 0.5; done; exit 1");
    }

    private static String run(String... command) {
        try {
            Process p = new ProcessBuilder(List.of(command))
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
