package dev.outbox.relay.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The image is built without a Docker engine here, so its build stage is checked by reading: Maven
 * reads every module the parent names before it builds any, so a module the build stage does not
 * copy (not even its pom) fails {@code docker build} for every user.
 */
class DockerfileTest {

    private static final Path ROOT = Path.of("..");
    private static final Pattern MODULE = Pattern.compile("<module>([^<]+)</module>");
    private static final Pattern COPY = Pattern.compile("^COPY\\s+(?!--from)(.+)\\s+\\S+$", Pattern.MULTILINE);

    @Test
    void buildStageCopiesEveryModuleTheParentPomNames() throws Exception {
        String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
        int runtimeStage = dockerfile.indexOf("\nFROM ", dockerfile.indexOf("FROM ") + 1);
        String buildStage = runtimeStage < 0 ? dockerfile : dockerfile.substring(0, runtimeStage);
        List<String> copied = new ArrayList<>();
        Matcher copy = COPY.matcher(buildStage);
        while (copy.find()) {
            copied.addAll(List.of(copy.group(1).trim().split("\\s+")));
        }
        Matcher module = MODULE.matcher(Files.readString(ROOT.resolve("pom.xml")));
        while (module.find()) {
            String name = module.group(1).trim();
            assertThat(copied)
                    .as("the Dockerfile's build stage copies module " + name + " (its directory, or at least " + name
                            + "/pom.xml when the relay does not need it)")
                    .containsAnyOf(name + "/", name, name + "/pom.xml");
        }
    }
}
