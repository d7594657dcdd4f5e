package dev.outbox.testing;

/**
 * The size of fault scenarios: {@code ci} (the default, small enough for every CI run) or
 * {@code full} (the sizes of docs/reliability.md), from system property {@code faults.scale}.
 */
public final class FaultScale {

    private FaultScale() {}

    public static boolean full() {
        return "full".equalsIgnoreCase(System.getProperty("faults.scale", "ci"));
    }

    public static int pick(int ci, int full) {
        return full() ? full : ci;
    }

    public static String name() {
        return full() ? "full" : "ci";
    }
}
