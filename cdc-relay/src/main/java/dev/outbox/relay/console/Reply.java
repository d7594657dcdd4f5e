package dev.outbox.relay.console;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the console answers: status, type, body and extra headers. */
record Reply(int status, String contentType, byte[] body, Map<String, String> headers) {

    static Reply html(int status, String page) {
        return new Reply(
                status, "text/html; charset=utf-8", page.getBytes(StandardCharsets.UTF_8), new LinkedHashMap<>());
    }

    static Reply json(int status, String json) {
        return new Reply(status, "application/json", json.getBytes(StandardCharsets.UTF_8), new LinkedHashMap<>());
    }

    static Reply redirect(String location) {
        Reply r = new Reply(303, "text/plain; charset=utf-8", new byte[0], new LinkedHashMap<>());
        r.headers().put("Location", location);
        return r;
    }

    Reply with(String header, String value) {
        headers.put(header, value);
        return this;
    }
}
