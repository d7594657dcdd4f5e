package dev.outbox.relay.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HtmlTest {

    @Test
    void textCannotOpenAnElementAnAttributeOrAnEntity() {
        String page = new Html()
                .raw("<p title=\"")
                .text("\" onmouseover='x' <b>&amp;")
                .raw("\">")
                .toString();
        assertThat(page).isEqualTo("<p title=\"&quot; onmouseover=&#39;x&#39; &lt;b&gt;&amp;amp;\">");
    }

    @Test
    void queriesAreUrlEncoded() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("fingerprint", "a <n> & \"b\"");
        p.put("queue", "q");
        assertThat(Html.query(p)).isEqualTo("?fingerprint=a+%3Cn%3E+%26+%22b%22&queue=q");
    }
}
