package dev.outbox.relay.config;

/**
 * The environment needs a change the relay cannot make, and retrying will not make it:
 * credentials, {@code wal_level}, a missing right, a slot that was dropped, a certificate not
 * trusted, a topology the broker refuses. Thrown at start and while running; the message says
 * exactly what to change, and the relay exits with code 3. Beside {@link ConfigException}
 * (exit code 2): both are what an operator fixes.
 */
public class EnvironmentException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public EnvironmentException(String message) {
        super(message);
    }

    public EnvironmentException(String message, Throwable cause) {
        super(message, cause);
    }
}
