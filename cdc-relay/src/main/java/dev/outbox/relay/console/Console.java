package dev.outbox.relay.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.outbox.relay.config.RelayConfig.ConsoleAccess;
import dev.outbox.sdk.BrokerConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.Optional;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operations console under {@code /console}: pages for people, a JSON API under {@code
 * /console/api} for scripts, both over the same reads and actions. Decides who may do what (see
 * {@link ConsoleAuth}) and sets the headers that keep a browser from running or framing anything
 * of the pages; the pages and the API only render and act.
 */
public final class Console implements HttpHandler, AutoCloseable {

    public static final String PATH = "/console";
    private static final Logger LOG = LoggerFactory.getLogger(Console.class);
    private static final String SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self';"
            + " form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private final ConsoleAuth auth;
    private final SignInThrottle throttle = new SignInThrottle(System::currentTimeMillis);
    private final DeadLetterActions actions;
    private final ConsolePages pages;
    private final ConsoleApi api;

    public Console(
            ConsoleAccess access, DataSource dataSource, BrokerConfig brokerConfig, Supplier<RelayStatus> status) {
        this.auth = new ConsoleAuth(access);
        this.actions = new DeadLetterActions(dataSource, brokerConfig);
        this.pages = new ConsolePages(auth, actions, dataSource, status);
        this.api = new ConsoleApi(actions, dataSource, status);
    }

    /** What {@code /console} answers when the console is off: how to turn it on. */
    public static HttpHandler off() {
        return ex -> send(
                ex,
                Reply.html(
                        404,
                        "<!doctype html><title>Console off</title><p>The console is off. Set RELAY_CONSOLE_TOKEN"
                                + " (or RELAY_CONSOLE_USER and RELAY_CONSOLE_PASSWORD) to turn it on;"
                                + " see docs/operating.md, Console.</p>"));
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        Reply reply;
        Call call = null;
        try {
            call = Call.read(ex);
            reply = route(call);
        } catch (IllegalArgumentException e) {
            boolean json = call != null && call.path.startsWith(PATH + "/api/");
            reply = json ? ConsoleApi.error(400, e.getMessage()) : pages.problem(400, e.getMessage());
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.warn(
                    "Console: {} {} failed",
                    ex.getRequestMethod(),
                    ex.getRequestURI().getPath(),
                    e);
            boolean json = call != null && call.path.startsWith(PATH + "/api/");
            String message = "the request failed: " + e.getClass().getSimpleName() + ": " + e.getMessage();
            reply = json ? ConsoleApi.error(500, message) : pages.problem(500, message);
        }
        send(ex, reply);
    }

    private Reply route(Call call) throws Exception {
        String path = call.path.length() > PATH.length() ? call.path.substring(PATH.length()) : "/";
        boolean isApi = path.startsWith("/api/");
        boolean presentsCredential = call.authorization != null || (path.equals("/login") && call.isPost());
        long wait = presentsCredential ? throttle.blockedForSeconds(call.remoteAddress) : 0;
        if (wait > 0) {
            String why = "too many wrong credentials from this address; try again in " + wait + " s";
            LOG.warn("Console: refused {} {} from {}: {}", call.method, call.path, call.remoteAddress, why);
            Reply r = isApi ? ConsoleApi.error(429, why) : pages.problem(429, why);
            return r.with("Retry-After", Long.toString(wait));
        }
        if (path.equals("/login")) {
            return call.isPost() ? signIn(call) : pages.login(call.query.get("next"), null);
        }
        try {
            Optional<ConsoleAuth.Principal> who = auth.identify(call.cookie, call.authorization);
            call.principal = who.orElse(null);
        } catch (ConsoleAuth.Refused e) {
            throttle.failed(call.remoteAddress);
            return refuse(call, isApi, 401, e.getMessage());
        }
        boolean acting = call.isPost();
        if (acting) {
            Reply refused = mayAct(call, isApi);
            if (refused != null) {
                return refused;
            }
        } else if (!call.isGet()) {
            return isApi ? ConsoleApi.error(405, "use GET or POST") : pages.problem(405, "use GET or POST");
        } else if (call.principal == null && !auth.anonymousRead()) {
            if (isApi) {
                return refuse(call, true, 401, "no credential");
            }
            return Reply.redirect(PATH + "/login?next="
                    + java.net.URLEncoder.encode(call.path, java.nio.charset.StandardCharsets.UTF_8));
        }
        if (path.equals("/logout") && acting) {
            auth.signOut(call.cookie);
            return Reply.redirect(PATH + "/login")
                    .with(
                            "Set-Cookie",
                            ConsoleAuth.COOKIE + "=; Path=" + PATH + "; HttpOnly; SameSite=Strict; Max-Age=0");
        }
        return isApi ? api.handle(call, path.substring("/api".length())) : pages.handle(call, path);
    }

    /** Actions need a credential; a session's also its own token and a same-origin request. */
    private Reply mayAct(Call call, boolean isApi) {
        if (!auth.hasCredentials()) {
            return refuse(
                    call,
                    isApi,
                    403,
                    "the console is read-only: no credential is configured (set RELAY_CONSOLE_TOKEN, or"
                            + " RELAY_CONSOLE_USER and RELAY_CONSOLE_PASSWORD)");
        }
        if (call.principal == null) {
            return refuse(call, isApi, 401, "no credential: sign in, or send Authorization: Bearer <token>");
        }
        if (call.principal.csrf() != null) {
            String given = isApi ? null : call.form().get("csrf");
            if (!ConsoleAuth.csrfOk(call.principal, given) || !sameOrigin(call)) {
                // Cookie-borne API calls are refused outright: scripts send the Authorization header.
                return refuse(
                        call,
                        isApi,
                        403,
                        isApi
                                ? "the API takes Authorization: Bearer or Basic, not the browser's session"
                                : "the form's request-forgery token is missing or wrong, or it came from another site;"
                                        + " reload the page and try again");
            }
        }
        return null;
    }

    /** No Origin header (older browsers): the form's token decides alone. */
    private static boolean sameOrigin(Call call) {
        if (call.origin == null) {
            return true;
        }
        try {
            URI origin = URI.create(call.origin);
            if (origin.getHost() == null) {
                return false;
            }
            String authority = origin.getPort() < 0 ? origin.getHost() : origin.getHost() + ":" + origin.getPort();
            return authority.equalsIgnoreCase(call.host);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private Reply signIn(Call call) {
        var form = call.form();
        String next = form.get("next");
        if (!auth.hasCredentials()) {
            return pages.login(next, "No credential is configured: the console is read-only.");
        }
        try {
            String session = auth.signIn(form.get("token"), form.get("user"), form.get("password"));
            LOG.info("Console: signed in from {}", call.remoteAddress);
            return Reply.redirect(safeNext(next))
                    .with(
                            "Set-Cookie",
                            ConsoleAuth.COOKIE + "=" + session + "; Path=" + PATH
                                    + "; HttpOnly; SameSite=Strict; Max-Age="
                                    + ConsoleAuth.SESSION_LIFETIME.toSeconds());
        } catch (ConsoleAuth.Refused e) {
            throttle.failed(call.remoteAddress);
            LOG.warn("Console: refused sign-in from {}: {}", call.remoteAddress, e.getMessage());
            Reply r = pages.login(next, "Not signed in: " + e.getMessage() + ".");
            return new Reply(401, r.contentType(), r.body(), r.headers());
        }
    }

    /** Only a path of the console itself: a sign-in link must not send anyone elsewhere. */
    private static String safeNext(String next) {
        if (next != null
                && next.startsWith(PATH)
                && !next.startsWith("//")
                && !next.contains("\\")
                && next.chars().noneMatch(Character::isISOControl)) {
            return next;
        }
        return PATH;
    }

    private Reply refuse(Call call, boolean isApi, int status, String why) {
        LOG.warn("Console: refused {} {} from {}: {}", call.method, call.path, call.remoteAddress, why);
        if (isApi) {
            Reply r = ConsoleApi.error(status, why);
            return status == 401 ? r.with("WWW-Authenticate", "Bearer realm=\"outbox console\"") : r;
        }
        return pages.problem(status, why);
    }

    private static void send(HttpExchange ex, Reply reply) throws IOException {
        var h = ex.getResponseHeaders();
        h.set("Content-Type", reply.contentType());
        h.set("Cache-Control", "no-store");
        h.set("X-Content-Type-Options", "nosniff");
        // Not no-referrer: under it a browser sends "Origin: null" with the console's own forms.
        h.set("Referrer-Policy", "same-origin");
        h.set("X-Frame-Options", "DENY");
        h.set("Content-Security-Policy", SECURITY_POLICY);
        reply.headers().forEach(h::set);
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(reply.status(), head || reply.body().length == 0 ? -1 : reply.body().length);
        try (OutputStream out = ex.getResponseBody()) {
            if (!head) {
                out.write(reply.body());
            }
        }
    }

    @Override
    public void close() {
        actions.close();
    }
}
