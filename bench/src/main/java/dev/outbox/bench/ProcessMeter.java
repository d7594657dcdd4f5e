package dev.outbox.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * What a child process costs, read from /proc: its peak RSS (sampled every 100 ms), its CPU
 * time, and its CPU time by thread group. The relay and the anchor are measured by the same one.
 */
final class ProcessMeter implements AutoCloseable {

    private final long pid;
    private final AtomicLong peakRssKb = new AtomicLong();
    private final Thread sampler;

    ProcessMeter(Process process) {
        this.pid = process.pid();
        this.sampler = new Thread(
                () -> {
                    while (process.isAlive()) {
                        peakRssKb.accumulateAndGet(rssKb(pid), Math::max);
                        try {
                            TimeUnit.MILLISECONDS.sleep(100);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                },
                "rss-sampler-" + pid);
        sampler.setDaemon(true);
        sampler.start();
    }

    long peakRssMb() {
        return peakRssKb.get() / 1024;
    }

    /** utime + stime of the process, from /proc/PID/stat, in seconds (clock ticks of 100 Hz). */
    double cpuSeconds() {
        try {
            return ProcStat.read(Path.of("/proc", Long.toString(pid), "stat")).cpuSeconds();
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** CPU seconds of the process's threads so far, summed by {@code group} of their /proc names; empty off Linux. */
    Map<String, Double> cpuByThread(Function<String, String> group) {
        Map<String, Double> byGroup = new java.util.LinkedHashMap<>();
        try (java.nio.file.DirectoryStream<Path> tasks =
                Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks) {
                try {
                    ProcStat thread = ProcStat.read(task.resolve("stat"));
                    byGroup.merge(group.apply(thread.name()), thread.cpuSeconds(), Double::sum);
                } catch (IOException ended) {
                    // the thread ended since the listing
                }
            }
        } catch (IOException | RuntimeException notLinux) {
            return Map.of();
        }
        return byGroup;
    }

    private static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    @Override
    public void close() {
        sampler.interrupt();
    }
}
