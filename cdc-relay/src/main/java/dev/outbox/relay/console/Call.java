package dev.outbox.relay.console;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One request as the console reads it: method, path, parameters, body and the headers that matter. */
final class Call {

    static final int MAX_BODY_BYTES = 1 << 20;

    final String method;
    final String path;
    final Map<String, String> query;
    final byte[] body;
    final String contentType;
    final String cookie;
    final String authorization;
    final String origin;
    final String host;
    final String remoteAddress;
    ConsoleAuth.Principal principal;

    private Call(HttpExchange ex, byte[] body) {
        this.method = ex.getRequestMethod();
        this.path = ex.getRequestURI().getPath();
        this.query = parameters(ex.getRequestURI().getRawQuery());
        this.body = body;
        this.contentType = ex.getRequestHeaders().getFirst("Content-Type");
        this.cookie = String.join("; ", ex.getRequestHeaders().getOrDefault("Cookie", List.of()));
        this.authorization = ex.getRequestHeaders().getFirst("Authorization");
        this.origin = ex.getRequestHeaders().getFirst("Origin");
        this.host = ex.getRequestHeaders().getFirst("Host");
        this.remoteAddress = ex.getRemoteAddress() == null
                ? null
                : ex.getRemoteAddress().getAddress().getHostAddress();
    }

    static Call read(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                throw new IllegalArgumentException("the request body is larger than " + MAX_BODY_BYTES + " bytes");
            }
            return new Call(ex, body);
        }
    }

    /** A form post's fields. */
    Map<String, String> form() {
        return parameters(new String(body, StandardCharsets.UTF_8));
    }

    /** Every value of one form field, in order (ids of checked boxes). */
    List<String> formAll(String name) {
        java.util.ArrayList<String> values = new java.util.ArrayList<>();
        for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && decode(pair.substring(0, eq)).equals(name)) {
                values.add(decode(pair.substring(eq + 1)));
            }
        }
        return values;
    }

    boolean isPost() {
        return "POST".equals(method);
    }

    boolean isGet() {
        return "GET".equals(method) || "HEAD".equals(method);
    }

    private static Map<String, String> parameters(String raw) {
        Map<String, String> params = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return params;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            params.putIfAbsent(key, value);
        }
        return params;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("a parameter is not validly URL-encoded");
        }
    }
}
