package dev.outbox.bench;

import java.util.ArrayList;
import java.util.List;

/** Repeated runs of one measurement: median and spread (min to max), formatted for the table. */
record Stats(List<Double> runs) {

    Stats {
        runs = List.copyOf(runs);
        if (runs.isEmpty()) {
            throw new IllegalArgumentException("no runs");
        }
    }

    static Stats of(List<Double> runs) {
        return new Stats(runs);
    }

    double median() {
        List<Double> sorted = new ArrayList<>(runs);
        sorted.sort(Double::compare);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    double min() {
        return runs.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    }

    double max() {
        return runs.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }

    /** e.g. {@code 5,120 (4,980 to 5,300)}, with the given number format for each figure. */
    String describe(String format) {
        return String.format(format, median())
                + (runs.size() > 1
                        ? " (" + String.format(format, min()) + " to " + String.format(format, max()) + ")"
                        : "");
    }
}
