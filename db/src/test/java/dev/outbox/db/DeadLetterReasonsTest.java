package dev.outbox.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.protocol.DeadLetterReason;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The dead_letters table accepts exactly the reasons every module writes and filters by. */
class DeadLetterReasonsTest {

    @Test
    void theTablesReasonConstraintListsExactlyTheProtocolsReasons() throws Exception {
        String sql;
        try (InputStream in = getClass().getResourceAsStream("/dev/outbox/db/migration/V2__dead_letters.sql")) {
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Matcher constraint = Pattern.compile("reason IN \\(([^)]*)\\)").matcher(sql);
        assertThat(constraint.find())
                .as("the reason check in V2__dead_letters.sql")
                .isTrue();
        List<String> allowed = new ArrayList<>();
        Matcher literal = Pattern.compile("'([a-z_]+)'").matcher(constraint.group(1));
        while (literal.find()) {
            allowed.add(literal.group(1));
        }
        assertThat(allowed).containsExactlyElementsOf(DeadLetterReason.ALL);
    }
}
