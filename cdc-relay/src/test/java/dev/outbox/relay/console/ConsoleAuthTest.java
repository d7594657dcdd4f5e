package dev.outbox.relay.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.relay.config.RelayConfig.ConsoleAccess;
import dev.outbox.relay.config.RelayConfig.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ConsoleAuthTest {

    private static final String TOKEN = "0123456789abcdef-token";
    private final ConsoleAuth auth =
            new ConsoleAuth(new ConsoleAccess(new Secret(TOKEN), "ops", new Secret("s3cret-pass"), false));

    @Test
    void headerCredentialsNameTheActorAndNeedNoFormToken() {
        ConsoleAuth.Principal bearer = auth.identify(null, "Bearer " + TOKEN).orElseThrow();
        assertThat(bearer.actor()).isEqualTo("token");
        assertThat(ConsoleAuth.csrfOk(bearer, null)).isTrue();
        ConsoleAuth.Principal basic =
                auth.identify(null, basic("ops", "s3cret-pass")).orElseThrow();
        assertThat(basic.actor()).isEqualTo("ops");
    }

    @Test
    void wrongCredentialsAreRefusedWithAReasonThatHoldsNoSecret() {
        assertThatThrownBy(() -> auth.identify(null, "Bearer guess"))
                .isInstanceOf(ConsoleAuth.Refused.class)
                .hasMessage("wrong token");
        assertThatThrownBy(() -> auth.identify(null, basic("ops", "guess"))).hasMessage("wrong user or password");
        assertThatThrownBy(() -> auth.identify(null, basic("root", "s3cret-pass")))
                .hasMessage("wrong user or password");
        assertThatThrownBy(() -> auth.identify(null, "Digest x")).hasMessageContaining("neither Bearer nor Basic");
        assertThat(auth.identify(null, null)).isEmpty();
    }

    @Test
    void aSessionCarriesItsOwnFormTokenUntilSignedOut() {
        String session = auth.signIn(TOKEN, null, null);
        String cookie = "theme=dark; " + ConsoleAuth.COOKIE + "=" + session;
        ConsoleAuth.Principal p = auth.identify(cookie, null).orElseThrow();
        assertThat(p.actor()).isEqualTo("token");
        assertThat(p.csrf()).isNotBlank().isNotEqualTo(session);
        assertThat(ConsoleAuth.csrfOk(p, p.csrf())).isTrue();
        assertThat(ConsoleAuth.csrfOk(p, null)).isFalse();
        assertThat(ConsoleAuth.csrfOk(p, p.csrf() + "x")).isFalse();
        assertThat(auth.identify(ConsoleAuth.COOKIE + "=forged", null)).isEmpty();
        auth.signOut(cookie);
        assertThat(auth.identify(cookie, null)).isEmpty();
    }

    @Test
    void aSignInWithoutTheConfiguredKindOfCredentialIsRefused() {
        ConsoleAuth tokenOnly = new ConsoleAuth(new ConsoleAccess(new Secret(TOKEN), "", new Secret(""), false));
        assertThatThrownBy(() -> tokenOnly.signIn(null, "", ""))
                .hasMessage("user sign-in is not configured (RELAY_CONSOLE_USER)");
        assertThat(tokenOnly.acceptsPassword()).isFalse();
        assertThat(tokenOnly.acceptsToken()).isTrue();
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
