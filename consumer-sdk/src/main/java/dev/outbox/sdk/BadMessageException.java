package dev.outbox.sdk;

/** A message no handler can take (body not JSON, does not bind, no message id where one is needed): dead-lettered at once. */
final class BadMessageException extends Exception {

    private static final long serialVersionUID = 1L;

    BadMessageException(String message, Throwable cause) {
        super(message, cause);
    }
}
