package dev.outbox.bench;

/** A relay under measurement, ours or the anchor, as a child process. */
interface Measured extends AutoCloseable {

    void awaitReadiness() throws InterruptedException;

    void checkAlive();

    long pid();

    double cpuSeconds();

    long peakRssMb();

    /** CPU seconds so far by thread group (what the threads do); empty off Linux. */
    java.util.Map<String, Double> cpuByThread();

    @Override
    void close() throws InterruptedException;
}
