package dev.outbox.relay.console;

import dev.outbox.relay.config.RelayConfig.ConsoleAccess;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who is asking. A browser signs in once (token, or user and password) and holds a session
 * cookie; each session has a token of its own that every form and every cookie-borne API call
 * must carry (cross-site request forgery). Scripts send {@code Authorization: Bearer <token>} or
 * {@code Basic}, which a foreign site cannot make a browser send. Secrets are compared in
 * constant time and never logged.
 */
final class ConsoleAuth {

    static final String COOKIE = "outbox_console";
    static final Duration SESSION_LIFETIME = Duration.ofHours(8);
    private static final int MAX_SESSIONS = 10_000;

    /** A signed-in caller; {@code csrf} is {@code null} for header credentials, which need none. */
    record Principal(String actor, String csrf) {}

    private record Session(String actor, String csrf, long expiresAtMillis) {}

    private final ConsoleAccess access;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    ConsoleAuth(ConsoleAccess access) {
        this.access = access;
    }

    boolean anonymousRead() {
        return access.anonymousRead();
    }

    boolean hasCredentials() {
        return access.hasCredentials();
    }

    /** Whether the sign-in form offers the token, the user and password, or both. */
    boolean acceptsToken() {
        return !access.token().isEmpty();
    }

    boolean acceptsPassword() {
        return !access.user().isEmpty();
    }

    /**
     * The caller of a request with these headers: a live session cookie, or an {@code
     * Authorization} header. Empty when there is none; {@link Refused} when one is given and wrong.
     */
    Optional<Principal> identify(String cookieHeader, String authorization) {
        if (authorization != null && !authorization.isBlank()) {
            return Optional.of(fromHeader(authorization.trim()));
        }
        String sessionId = cookie(cookieHeader);
        if (sessionId == null) {
            return Optional.empty();
        }
        Session s = sessions.get(sessionId);
        if (s == null || s.expiresAtMillis() < System.currentTimeMillis()) {
            sessions.remove(sessionId);
            return Optional.empty();
        }
        return Optional.of(new Principal(s.actor(), s.csrf()));
    }

    private Principal fromHeader(String authorization) {
        if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return new Principal(tokenActor(authorization.substring(7).trim()), null);
        }
        if (authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            String decoded;
            try {
                decoded = new String(
                        Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new Refused("the Basic credentials are not valid base64");
            }
            int colon = decoded.indexOf(':');
            if (colon < 0) {
                throw new Refused("the Basic credentials have no user:password");
            }
            return new Principal(passwordActor(decoded.substring(0, colon), decoded.substring(colon + 1)), null);
        }
        throw new Refused("the Authorization header is neither Bearer nor Basic");
    }

    /** Checks sign-in form fields; returns the new session's cookie value. */
    String signIn(String token, String user, String password) {
        String actor = token != null && !token.isEmpty() ? tokenActor(token) : passwordActor(user, password);
        if (sessions.size() >= MAX_SESSIONS) {
            long now = System.currentTimeMillis();
            sessions.values().removeIf(s -> s.expiresAtMillis() < now);
        }
        String id = randomToken();
        sessions.put(id, new Session(actor, randomToken(), System.currentTimeMillis() + SESSION_LIFETIME.toMillis()));
        return id;
    }

    void signOut(String cookieHeader) {
        String id = cookie(cookieHeader);
        if (id != null) {
            sessions.remove(id);
        }
    }

    /** A session's requests must carry its token; header credentials carry none and need none. */
    static boolean csrfOk(Principal p, String given) {
        return p.csrf() == null || (given != null && same(p.csrf(), given));
    }

    private String tokenActor(String token) {
        if (access.token().isEmpty()) {
            throw new Refused("token sign-in is not configured (RELAY_CONSOLE_TOKEN)");
        }
        if (!same(access.token().reveal(), token)) {
            throw new Refused("wrong token");
        }
        return "token";
    }

    private String passwordActor(String user, String password) {
        if (access.user().isEmpty()) {
            throw new Refused("user sign-in is not configured (RELAY_CONSOLE_USER)");
        }
        // Both compared, always, so the time taken does not tell whether the user name was right.
        boolean userOk = same(access.user(), user == null ? "" : user);
        boolean passwordOk = same(access.password().reveal(), password == null ? "" : password);
        if (!userOk || !passwordOk) {
            throw new Refused("wrong user or password");
        }
        return access.user();
    }

    private static String cookie(String header) {
        if (header == null) {
            return null;
        }
        for (String part : header.split(";")) {
            String p = part.trim();
            if (p.startsWith(COOKIE + "=")) {
                return p.substring(COOKIE.length() + 1);
            }
        }
        return null;
    }

    private String randomToken() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** Equal in constant time: digests first, so neither length nor prefix shows in the timing. */
    private static boolean same(String expected, String given) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] a = sha.digest(expected.getBytes(StandardCharsets.UTF_8));
            byte[] b = sha.digest(given.getBytes(StandardCharsets.UTF_8));
            return MessageDigest.isEqual(a, b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }

    /** A credential was given and is wrong; the message names why, never the secret. */
    static final class Refused extends RuntimeException {
        Refused(String why) {
            super(why, null, false, false);
        }
    }
}
