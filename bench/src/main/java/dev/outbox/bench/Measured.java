package dev.outbox.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A relay under measurement, ours or the anchor, as a child process: alive or not, its CPU and
 * peak RSS (one {@link ProcessMeter} for both), and a stop as an orchestrator's SIGTERM.
 */
abstract class Measured implements AutoCloseable {

    private final Process process;
    private final ProcessMeter meter;
    private final String name;
    private final String logs;

    /** {@code name} and {@code logs} (where its output is) go into the messages about it. */
    Measured(Process process, String name, String logs) {
        this.process = process;
        this.meter = new ProcessMeter(process);
        this.name = name;
        this.logs = logs;
    }

    /** Waits until it publishes what is committed from now on. */
    abstract void awaitReadiness() throws InterruptedException;

    /** Its threads' names, as /proc cuts them, to what they do. */
    abstract String threadGroup(String threadName);

    void checkAlive() {
        if (!process.isAlive()) {
            throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + logs);
        }
    }

    long pid() {
        return process.pid();
    }

    long peakRssMb() {
        return meter.peakRssMb();
    }

    /** utime + stime of the process, in seconds. */
    double cpuSeconds() {
        return meter.cpuSeconds();
    }

    /** CPU seconds so far by thread group (what the threads do); empty off Linux. */
    Map<String, Double> cpuByThread() {
        return meter.cpuByThread(this::threadGroup);
    }

    /** SIGTERM, as an orchestrator stops it; then, after a minute, SIGKILL. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        meter.close();
    }
}
