package dev.outbox.relay.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.outbox.relay.metrics.RelayMetrics;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code /health/live}, {@code /health/ready}, {@code /metrics} and the console on the JDK's own
 * HTTP server: a handful of endpoints and server-rendered pages do not need a web framework.
 */
public final class HealthServer implements AutoCloseable {

    /** Why the relay is not ready, or {@code null} when it is. */
    public interface Readiness extends Supplier<String> {}

    private final HttpServer server;

    public HealthServer(int port, Readiness readiness, RelayMetrics metrics) throws IOException {
        this(port, readiness, metrics, null);
    }

    /**
     * With {@code console} under {@code /console}. A few threads: a bulk replay in the console
     * must not hold up a health probe.
     */
    public HealthServer(int port, Readiness readiness, RelayMetrics metrics, HttpHandler console) throws IOException {
        server = HttpServer.create(new InetSocketAddress(port), 16);
        server.setExecutor(Executors.newFixedThreadPool(console == null ? 1 : 4, r -> {
            Thread t = new Thread(r, "relay-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/health/live", ex -> respond(ex, 200, "application/json", "{\"status\":\"UP\"}"));
        server.createContext("/health/ready", ex -> {
            String reason = readiness.get();
            if (reason == null) {
                respond(ex, 200, "application/json", "{\"status\":\"UP\"}");
            } else {
                respond(ex, 503, "application/json", "{\"status\":\"DOWN\",\"reason\":\"" + escape(reason) + "\"}");
            }
        });
        if (console != null) {
            server.createContext("/console", console);
        }
        server.createContext(
                "/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
    }

    public void start() {
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
