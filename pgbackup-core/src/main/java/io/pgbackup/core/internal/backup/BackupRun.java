package io.pgbackup.core.internal.backup;

import io.pgbackup.core.backup.BackupOptions;

import io.pgbackup.core.internal.postgres.ServerInfo;
import io.pgbackup.core.storage.Compression;

import io.pgbackup.core.internal.incremental.ChainPlanner;
import io.pgbackup.core.internal.incremental.PageRule;

import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One backup being taken: its id, when it started, how it is compressed, what was asked, and the
 * server's identity, read beside the transfer (a foreign cluster stops it).
 */
record BackupRun(String id, OffsetDateTime start, Compression compression, BackupOptions options,
                 CompletableFuture<ServerFacts> serverCheck, ChainPlanner.Decision decision, Optional<PageRule> rule,
                 String incrementalMethod, Optional<byte[]> parentManifest) {

    /** A diff or incr: its tars are filtered, so the server must not compress them. */
    boolean incremental() {
        return !decision.plan().isFull();
    }

    /**
     * The server as read over SQL: identity, version, the databases' total size, and whether it was
     * built with zstd (server-side zstd needs it; some builds, such as zonky's, lack it).
     */
    record ServerFacts(ServerInfo info, long databaseSize, boolean zstd) {
    }

    /** Waits for the server check; its refusal or connection failure is thrown as it was. */
    ServerFacts server() {
        try {
            return serverCheck.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    /** The same run taken by another path (the server refused the summaries one, nothing was stored). */
    BackupRun with(IncrementalPath.Chosen chosen) {
        return new BackupRun(id, start, compression, options, serverCheck, chosen.decision(), chosen.rule(), chosen.method(),
                chosen.parentManifest());
    }

    String label() {
        return "pgbackup " + id;
    }
}
