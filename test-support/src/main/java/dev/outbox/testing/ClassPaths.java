package dev.outbox.testing;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;

/** Class loaders over the test's class path, for what must work when an optional dependency is absent. */
public final class ClassPaths {

    private ClassPaths() {}

    /** The test's class path without the entries whose path contains {@code fragment}; close it after use. */
    public static URLClassLoader without(String fragment) {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.contains(fragment)) {
                try {
                    urls.add(new File(entry).toURI().toURL());
                } catch (MalformedURLException e) {
                    throw new IllegalStateException("class path entry " + entry, e);
                }
            }
        }
        return new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
    }
}
