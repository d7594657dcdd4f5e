package dev.outbox.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/** A TCP port nothing listens on right now, for a server a test starts (relay HTTP, a scratch broker). */
public final class Ports {

    private Ports() {}

    public static int free() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free local port: " + e.getMessage(), e);
        }
    }
}
