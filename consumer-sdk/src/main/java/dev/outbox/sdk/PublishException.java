package dev.outbox.sdk;

/** RabbitMQ did not confirm a message: it may or may not have it; sending again is safe (consumers deduplicate by message id). */
public class PublishException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PublishException(String message, Throwable cause) {
        super(message, cause);
    }
}
