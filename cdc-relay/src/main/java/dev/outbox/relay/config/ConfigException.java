package dev.outbox.relay.config;

/** A setting with a bad value. The message names the variable, the rule and the value (masked if secret). */
public class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
