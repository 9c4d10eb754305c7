package io.pgbackup.core.internal.restore;

import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which files of one restore root a pass of a {@link VerifiedDelta} writes: a file {@code leave}
 * names keeps what it has (its entries are read past); the others are written onto. {@code lenient}:
 * an {@code INCREMENTAL.} entry whose older file is missing is noted in {@link #unresolved()}
 * instead of refusing the restore (the pass that patches a copy from the newer backups only; the
 * whole chain then rewrites it).
 */
final class DeltaScope {
    private final Path realRoot;
    private final Predicate<String> leave;
    private final boolean lenient;
    private final Set<String> unresolved = Collections.synchronizedSet(new HashSet<>());
    private final Set<String> touched = Collections.synchronizedSet(new HashSet<>());

    DeltaScope(Path realRoot, Predicate<String> leave, boolean lenient) {
        this.realRoot = realRoot;
        this.leave = leave;
        this.lenient = lenient;
    }

    /** The path of {@code file} (below the root's real path, as the extractor resolves it) relative to the root. */
    String relative(Path file) {
        return realRoot.relativize(file).toString().replace(java.io.File.separatorChar, '/');
    }

    /** Whether the pass leaves {@code rel} as it is; else it is noted as touched. */
    boolean leaves(String rel) {
        if (leave.test(rel)) {
            return true;
        }
        touched.add(rel);
        return false;
    }

    boolean lenient() {
        return lenient;
    }

    void unresolved(String rel) {
        unresolved.add(rel);
    }

    /** Files an incremental entry changes whose older version is missing here. */
    Set<String> unresolved() {
        return unresolved;
    }

    /** Files the pass wrote onto (or tried to). */
    Set<String> touched() {
        return touched;
    }
}
