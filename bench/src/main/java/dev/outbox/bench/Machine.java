package dev.outbox.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the figures were measured on, for the results table. */
final class Machine {

    private Machine() {}

    static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    static String describe() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name"))
                    .findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .orElse(cpu);
        } catch (IOException ignored) {
            // not Linux
        }
        long memGb = 0;
        try {
            memGb = Files.readAllLines(Path.of("/proc/meminfo")).stream()
                    .filter(l -> l.startsWith("MemTotal"))
                    .findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024 / 1024)
                    .orElse(0L);
        } catch (IOException | NumberFormatException ignored) {
            // not Linux
        }
        return String.format(
                "%d cores (%s), %d GiB, Java %s, PostgreSQL and RabbitMQ local",
                cores(), cpu, memGb, System.getProperty("java.version"));
    }
}
