package dev.outbox.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Arrays;

/** The shared payload, percentiles and a results file: every benchmark prints its figures and appends them to bench/target/results. */
final class Figures {

    /** The body every benchmark writes: an order of realistic size (about 140 bytes). */
    static final String ORDER_PAYLOAD = "{\"orderId\":\"o-123456\",\"customer\":\"c-42\",\"amount\":1999,"
            + "\"currency\":\"EUR\",\"items\":[{\"sku\":\"A-1\",\"qty\":2},{\"sku\":\"B-7\",\"qty\":1}]}";

    private Figures() {}

    static double percentile(long[] sortedNanos, double p) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int index = (int) Math.min(sortedNanos.length - 1, Math.ceil(p / 100.0 * sortedNanos.length) - 1);
        return sortedNanos[Math.max(0, index)] / 1_000_000.0;
    }

    static String latencies(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return String.format(
                "p50=%.1f ms p95=%.1f ms p99=%.1f ms max=%.1f ms (n=%d)",
                percentile(sorted, 50),
                percentile(sorted, 95),
                percentile(sorted, 99),
                percentile(sorted, 100),
                sorted.length);
    }

    static void report(String benchmark, String line) {
        System.out.println(benchmark + ": " + line);
        try {
            Path dir = Files.createDirectories(Path.of("bench", "target", "results"));
            Files.writeString(
                    dir.resolve(benchmark + ".txt"),
                    Instant.now() + " " + line + System.lineSeparator(),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("could not write results: " + e.getMessage());
        }
    }
}
