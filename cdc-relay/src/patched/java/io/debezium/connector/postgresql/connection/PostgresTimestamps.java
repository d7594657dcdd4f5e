package io.debezium.connector.postgresql.connection;

import java.time.DateTimeException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * cdc-relay: reads a timestamptz the way PostgreSQL writes it with {@code DateStyle = ISO}
 * (what pgoutput sends): {@code yyyy-MM-dd HH:mm:ss[.f{1,9}]±HH[:mm[:ss]]}, a four-digit year
 * and nothing after the offset. For the patched {@link DateTimeFormat}; it lives in
 * Debezium's package only to sit beside it.
 */
final class PostgresTimestamps {

    private PostgresTimestamps() {
    }

    /**
     * The value of {@code s}, or {@code null} when it is not in that exact form (a BC date, a
     * year past 9999, an impossible date or anything else): the caller then parses it as
     * Debezium does, which also gives the error for text that is no timestamp at all.
     */
    static OffsetDateTime parseTimestampWithTimeZone(String s) {
        int n = s.length();
        if (n < 22 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != ' '
                || s.charAt(13) != ':' || s.charAt(16) != ':') {
            return null;
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        if ((year | month | day | hour | minute | second) < 0 || year == 0) {  // year 0 is 1 BC, written "0001 ... BC"
            return null;
        }
        int i = 19;
        int nanos = 0;
        if (s.charAt(i) == '.') {
            int start = ++i;
            while (i < n && i - start < 9 && isDigit(s.charAt(i))) {
                nanos = nanos * 10 + (s.charAt(i) - '0');
                i++;
            }
            int count = i - start;
            if (count == 0) {
                return null;
            }
            for (int k = count; k < 9; k++) {
                nanos *= 10;
            }
        }
        if (i + 3 > n) {
            return null;
        }
        char sign = s.charAt(i);
        if (sign != '+' && sign != '-') {
            return null;
        }
        int offsetHours = digits(s, i + 1, 2);
        int offsetMinutes = 0;
        int offsetSeconds = 0;
        i += 3;
        if (i < n) {
            if (i + 3 > n || s.charAt(i) != ':' || (offsetMinutes = digits(s, i + 1, 2)) < 0) {
                return null;
            }
            i += 3;
            if (i < n) {
                if (i + 3 != n || s.charAt(i) != ':' || (offsetSeconds = digits(s, i + 1, 2)) < 0) {
                    return null;
                }
                i += 3;
            }
        }
        if (offsetHours < 0 || i != n) {
            return null;
        }
        try {
            ZoneOffset offset = sign == '+'
                    ? ZoneOffset.ofHoursMinutesSeconds(offsetHours, offsetMinutes, offsetSeconds)
                    : ZoneOffset.ofHoursMinutesSeconds(-offsetHours, -offsetMinutes, -offsetSeconds);
            return OffsetDateTime.of(year, month, day, hour, minute, second, nanos, offset);
        } catch (DateTimeException e) {
            return null;  // 2026-02-30 and the like: Debezium's parser words the error
        }
    }

    /** The {@code count} decimal digits at {@code from}, or -1 when one is not a digit. */
    private static int digits(String s, int from, int count) {
        int value = 0;
        for (int i = from; i < from + count; i++) {
            char c = s.charAt(i);
            if (!isDigit(c)) {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
