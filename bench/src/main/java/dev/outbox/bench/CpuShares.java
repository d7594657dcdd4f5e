package dev.outbox.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who used the machine's cores during a measurement: CPU time of RabbitMQ, PostgreSQL, the
 * relay, this harness and everything else, from /proc, and the machine's busy time from
 * /proc/stat (which also holds the kernel's interrupt work, charged to no process). With the
 * services on this machine, it shows whether a figure was bounded by the relay or by the cores
 * it shares with them. Off Linux, or with remote services, the shares say so by being empty.
 */
final class CpuShares {

    private static final String[] ROLES = {"RabbitMQ", "PostgreSQL", "relay", "harness", "other"};

    private final Map<String, Double> seconds = new LinkedHashMap<>();
    private double busySeconds;
    private double wallSeconds;

    /** CPU seconds so far, by role, and the machine's busy seconds; {@code relayPid} 0 when no relay runs. */
    record Snapshot(long atNanos, Map<String, Double> seconds, double busySeconds) {

        static Snapshot take(long relayPid) {
            Map<String, Double> byRole = new LinkedHashMap<>();
            long self = ProcessHandle.current().pid();
            double busy;
            try (DirectoryStream<Path> procs = Files.newDirectoryStream(
                    Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
                for (Path proc : procs) {
                    long pid = Long.parseLong(proc.getFileName().toString());
                    ProcStat process;
                    try {
                        process = ProcStat.read(proc.resolve("stat"));
                    } catch (IOException gone) {
                        continue; // ended since the listing
                    }
                    // A PostgreSQL backend that ended during the measurement (a writer's connection)
                    // is counted in the postmaster's reaped children.
                    byRole.merge(
                            role(pid, process.name(), self, relayPid),
                            process.cpuSecondsWithReapedChildren(),
                            Double::sum);
                }
                busy = machineBusySeconds();
            } catch (IOException | RuntimeException notLinux) {
                return new Snapshot(System.nanoTime(), Map.of(), Double.NaN);
            }
            return new Snapshot(System.nanoTime(), byRole, busy);
        }

        /** The relay's CPU seconds so far; NaN without /proc. */
        double relaySeconds() {
            return seconds.getOrDefault("relay", Double.NaN);
        }

        private static String role(long pid, String comm, long self, long relayPid) {
            if (pid == relayPid) {
                return "relay";
            }
            if (pid == self) {
                return "harness";
            }
            if (comm.startsWith("beam") || comm.equals("erl_child_setup") || comm.equals("epmd")) {
                return "RabbitMQ";
            }
            if (comm.equals("postgres")) {
                return "PostgreSQL";
            }
            return "other";
        }

        private static double machineBusySeconds() throws IOException {
            // cpu  user nice system idle iowait irq softirq steal ...
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                busy += Long.parseLong(f[i]);
            }
            return ProcStat.ticksToSeconds(busy);
        }
    }

    /** Adds what was used between {@code from} and {@code to}. */
    void add(Snapshot from, Snapshot to) {
        if (from.seconds().isEmpty() || to.seconds().isEmpty()) {
            return;
        }
        for (String role : ROLES) {
            seconds.merge(
                    role, to.seconds().getOrDefault(role, 0.0) - from.seconds().getOrDefault(role, 0.0), Double::sum);
        }
        busySeconds += to.busySeconds() - from.busySeconds();
        wallSeconds += (to.atNanos() - from.atNanos()) / 1e9;
    }

    /** E.g. "RabbitMQ 1.02, PostgreSQL 0.10, relay 0.71, harness 0.12, other 0.03; machine busy 1.96 of 2 cores". */
    String describe() {
        return describe("relay");
    }

    /** As {@link #describe()}, the measured process named {@code subject} (Debezium Server, say). */
    String describe(String subject) {
        if (wallSeconds == 0) {
            return "n/a (no /proc)";
        }
        StringBuilder out = new StringBuilder();
        for (String role : ROLES) {
            double cores = seconds.getOrDefault(role, 0.0) / wallSeconds;
            if (role.equals("relay") && cores == 0) {
                continue;
            }
            String name = role.equals("relay") ? subject : role;
            out.append(out.isEmpty() ? "" : ", ").append(String.format("%s %.2f", name, cores));
        }
        return out
                + String.format(
                        "; machine busy %.2f of %d cores (kernel interrupt work included)",
                        busySeconds / wallSeconds, Machine.cores());
    }
}
