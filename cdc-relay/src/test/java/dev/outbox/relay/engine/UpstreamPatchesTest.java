package dev.outbox.relay.engine;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.difflib.unifieddiff.UnifiedDiff;
import com.github.difflib.unifieddiff.UnifiedDiffFile;
import com.github.difflib.unifieddiff.UnifiedDiffReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The upstream classes the relay patches are compiled from {@code src/patched/java}, and what a
 * reviewer reads is {@code patches/*.patch} (docs/patches.md). These tests keep the two the
 * same thing: each patch, applied to the upstream source of the version in use (its sources
 * jar, a test dependency), gives exactly the file the relay compiles, and no file there is
 * without a patch. Change a patched class by editing its copy and running
 * {@code scripts/upstream-patches diff}; move to a new upstream version with
 * {@code scripts/upstream-patches apply}.
 */
class UpstreamPatchesTest {

    private static final Path PATCHES = Path.of("patches");
    private static final Path PATCHED_SOURCES = Path.of("src", "patched", "java");

    static Stream<Path> patches() throws IOException {
        try (Stream<Path> files = Files.list(PATCHES)) {
            return files.filter(p -> p.toString().endsWith(".patch")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("patches")
    void eachPatchAppliedToTheUpstreamSourceGivesTheClassTheRelayCompiles(Path patchFile) throws Exception {
        for (UnifiedDiffFile file : read(patchFile).getFiles()) {
            String path = pathOf(file);
            List<String> upstream = isNew(file) ? List.of() : upstreamSource(path);
            List<String> patched = file.getPatch().applyTo(upstream);
            assertThat(patched)
                    .as(path + " in " + PATCHED_SOURCES + " is " + patchFile + " applied to the upstream source;"
                            + " after editing the copy, run scripts/upstream-patches diff")
                    .isEqualTo(Files.readAllLines(PATCHED_SOURCES.resolve(path)));
        }
    }

    @Test
    void everyPatchedClassHasItsPatch() throws Exception {
        Set<String> covered = new HashSet<>();
        for (Path patchFile : patches().toList()) {
            for (UnifiedDiffFile file : read(patchFile).getFiles()) {
                covered.add(pathOf(file));
            }
        }
        try (Stream<Path> sources = Files.walk(PATCHED_SOURCES)) {
            List<String> compiled = sources.filter(p -> p.toString().endsWith(".java"))
                    .map(p -> PATCHED_SOURCES.relativize(p).toString().replace('\\', '/'))
                    .toList();
            assertThat(covered)
                    .as("files in " + PATCHED_SOURCES + " that patches/*.patch produce")
                    .containsExactlyInAnyOrderElementsOf(compiled);
        }
    }

    /** The reader leaves out git's a/ and b/ prefixes; a file that diff(1) wrote keeps them. */
    private static String pathOf(UnifiedDiffFile file) {
        String to = file.getToFile();
        return to.startsWith("b/") ? to.substring(2) : to;
    }

    private static boolean isNew(UnifiedDiffFile file) {
        return file.getFromFile().equals("/dev/null") || file.getFromFile().equals("dev/null");
    }

    private static UnifiedDiff read(Path patchFile) throws IOException {
        try (InputStream in = Files.newInputStream(patchFile)) {
            UnifiedDiff diff = UnifiedDiffReader.parseUnifiedDiff(in);
            assertThat(diff.getFiles()).as(patchFile + " holds a diff").isNotEmpty();
            return diff;
        }
    }

    private static List<String> upstreamSource(String path) throws IOException {
        try (InputStream in = UpstreamPatchesTest.class.getClassLoader().getResourceAsStream(path)) {
            assertThat(in)
                    .as(path + " in the upstream sources jars (test dependencies of cdc-relay)")
                    .isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }
}
