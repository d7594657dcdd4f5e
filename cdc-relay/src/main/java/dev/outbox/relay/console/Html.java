package dev.outbox.relay.console;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Builds a page where every value is escaped: {@link #raw} takes only the page's own markup
 * (literals in this package), {@link #text} everything else. Nothing of a message, a header or
 * an error can become markup or script.
 */
final class Html {

    private final StringBuilder out = new StringBuilder(8192);

    /** Markup written by the console itself; never a value from a request or the database. */
    Html raw(String markup) {
        out.append(markup);
        return this;
    }

    /** Any value: escaped for element text and attribute values alike. */
    Html text(Object value) {
        out.append(escape(value == null ? "" : String.valueOf(value)));
        return this;
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** A query string of {@code params} (URL-encoded; still to be passed through {@link #text}). */
    static String query(Map<String, String> params) {
        StringBuilder q = new StringBuilder();
        for (Map.Entry<String, String> e : params.entrySet()) {
            q.append(q.length() == 0 ? "?" : "&")
                    .append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
                    .append('=')
                    .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
        }
        return q.toString();
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
