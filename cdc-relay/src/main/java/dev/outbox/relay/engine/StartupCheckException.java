package dev.outbox.relay.engine;

/**
 * The environment is wrong in a way retrying will not fix (credentials, wal_level, missing
 * right, dropped slot). The message says exactly what to change; the relay exits with code 3.
 */
public class StartupCheckException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public StartupCheckException(String message) {
        super(message);
    }

    public StartupCheckException(String message, Throwable cause) {
        super(message, cause);
    }
}
