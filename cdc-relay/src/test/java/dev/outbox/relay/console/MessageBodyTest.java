package dev.outbox.relay.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outbox.sdk.deadletter.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What a dead letter's page shows of its body, whatever the body is: never more than a bounded amount. */
class MessageBodyTest {

    private static DeadLetter withBody(byte[] body, JsonNode json) {
        return new DeadLetter(
                1,
                "m-1",
                "order",
                "order.created",
                "billing",
                "rejected",
                0,
                "boom",
                null,
                null,
                body,
                json,
                Instant.EPOCH,
                Instant.EPOCH,
                "new",
                null);
    }

    @Test
    void aHugeJsonBodyIsShortenedAndSaysWhereTheRestIs() throws Exception {
        String big = "{\"blob\": \"" + "x".repeat(4 * ConsolePages.BODY_SHOWN) + "\"}";
        DeadLetter d = withBody(big.getBytes(StandardCharsets.UTF_8), new ObjectMapper().readTree(big));

        String shown = ConsolePages.body(d);

        assertThat(shown.length()).isLessThan(ConsolePages.BODY_SHOWN + 200);
        assertThat(shown).startsWith("{").contains("the API gives all of it");
    }

    @Test
    void aBinaryBodyIsShownAsShortenedBase64() {
        byte[] binary = new byte[ConsolePages.BODY_SHOWN];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) (0x80 | i); // never valid UTF-8 on its own
        }

        String shown = ConsolePages.body(withBody(binary, null));

        assertThat(shown).startsWith("(not UTF-8 text; base64)");
        assertThat(shown.length()).isLessThanOrEqualTo(ConsolePages.BODY_SHOWN + 30);
    }

    @Test
    void aSmallTextBodyIsShownWhole() {
        assertThat(ConsolePages.body(withBody("plain words".getBytes(StandardCharsets.UTF_8), null)))
                .isEqualTo("plain words");
    }
}
