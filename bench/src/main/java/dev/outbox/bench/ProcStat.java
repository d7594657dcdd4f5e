package dev.outbox.bench;

/**
 * One line of Linux's {@code /proc/PID/stat} or {@code /proc/PID/task/TID/stat}. The command
 * name, in parentheses, may hold spaces and parentheses itself, so the fields are counted from
 * the last closing one. Times are in clock ticks of 100 Hz.
 */
record ProcStat(String name, long userTicks, long systemTicks, long reapedChildrenTicks) {

    private static final double TICKS_PER_SECOND = 100.0;

    /** Reads and parses one stat file; an IOException when the process or thread has ended. */
    static ProcStat read(java.nio.file.Path statFile) throws java.io.IOException {
        return parse(java.nio.file.Files.readString(statFile));
    }

    static ProcStat parse(String line) {
        String[] f = line.substring(line.lastIndexOf(')') + 2).split(" ");
        return new ProcStat(
                line.substring(line.indexOf('(') + 1, line.lastIndexOf(')')),
                Long.parseLong(f[11]),
                Long.parseLong(f[12]),
                Long.parseLong(f[13]) + Long.parseLong(f[14]));
    }

    /** utime + stime, in seconds. */
    double cpuSeconds() {
        return (userTicks + systemTicks) / TICKS_PER_SECOND;
    }

    /** Plus the CPU time of children already waited for (a PostgreSQL backend that ended, say). */
    double cpuSecondsWithReapedChildren() {
        return (userTicks + systemTicks + reapedChildrenTicks) / TICKS_PER_SECOND;
    }

    static double ticksToSeconds(long ticks) {
        return ticks / TICKS_PER_SECOND;
    }
}
