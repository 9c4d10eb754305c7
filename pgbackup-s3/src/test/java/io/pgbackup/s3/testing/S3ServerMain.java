package io.pgbackup.s3.testing;

import org.jclouds.blobstore.BlobStore;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@link S3Server} as a process of its own, for bench/ (and by hand): the bench starts it, reads
 * where it listens, runs the CLI jar against it and asks it how many requests each command made.
 *
 * <pre>
 * java -cp TEST_CLASSPATH io.pgbackup.core.testing.S3ServerMain (--dir DIR | --in-memory) [--plant-wal N --prefix P]
 * </pre>
 *
 * Prints {@code PG_BACKUP_S3_ENDPOINT=...}, {@code PG_BACKUP_S3_BUCKET=...},
 * {@code AWS_ACCESS_KEY_ID=...}, {@code AWS_SECRET_ACCESS_KEY=...} (this fixture's test-only
 * credentials), then {@code ready}. Then reads commands on stdin, one a line: {@code reset} clears
 * the request log, {@code count} prints {@code lists=N wal_lists=W wal_walks=A heads=H gets=G puts=P}
 * (ListObjects pages; those under {@code <prefix>/wal_archive/}; those of the whole archive),
 * {@code quit} (or end of input) stops the server.
 *
 * <p>{@code --plant-wal N} writes N tiny segment objects ({@code <prefix>/wal_archive/<name>.gz} on
 * timeline 1, from segment 1 on) straight into the backend, on parallel threads, before {@code ready}.
 */
public final class S3ServerMain {
    private S3ServerMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = null;
        boolean inMemory = false;
        int plant = 0;
        String prefix = "";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--in-memory" -> inMemory = true;
                case "--plant-wal" -> plant = Integer.parseInt(args[++i]);
                case "--prefix" -> prefix = args[++i];
                default -> {
                    System.err.println("S3ServerMain: unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        if (dir == null && !inMemory) {
            System.err.println("S3ServerMain: --dir DIR or --in-memory is required");
            System.exit(2);
        }
        String wal = (prefix.isEmpty() ? "" : prefix + "/") + "wal_archive/";
        try (S3Server server = inMemory ? S3Server.startInMemory() : S3Server.start(Files.createDirectories(dir))) {
            if (plant > 0) {
                long t0 = System.nanoTime();
                plant(server.blobStore(), wal, plant);
                System.err.printf(Locale.ROOT, "S3ServerMain: %d segment keys planted in %.1f s%n", plant, (System.nanoTime() - t0) / 1e9);
            }
            System.out.println("PG_BACKUP_S3_ENDPOINT=" + server.endpoint());
            System.out.println("PG_BACKUP_S3_BUCKET=" + S3Server.BUCKET);
            for (Map.Entry<String, String> e : server.credentialsEnvironment().entrySet()) {
                System.out.println(e.getKey() + "=" + e.getValue());
            }
            System.out.println("ready");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null && !line.strip().equals("quit"); ) {
                switch (line.strip()) {
                    case "reset" -> {
                        server.clearRequests();
                        System.out.println("ok");
                    }
                    case "count" -> System.out.println(count(server.requests(), wal));
                    default -> System.out.println("unknown command: " + line.strip());
                }
                System.out.flush();
            }
        }
    }

    static String count(List<S3Server.Request> requests, String wal) {
        long lists = requests.stream().filter(r -> r.operation().equals("list") && r.name() != null).count();
        long walLists = requests.stream().filter(r -> r.operation().equals("list") && r.name() != null
                && (r.name().startsWith(wal) || wal.startsWith(r.name()))).count();
        long walWalks = requests.stream().filter(r -> r.operation().equals("list") && r.name() != null && wal.startsWith(r.name())).count();
        long heads = requests.stream().filter(r -> r.operation().equals("blobMetadata")).count();
        long gets = requests.stream().filter(r -> r.operation().equals("getBlob")).count();
        long puts = requests.stream().filter(r -> r.operation().equals("putBlob") || r.operation().equals("completeMultipartUpload")).count();
        return String.format(Locale.ROOT, "lists=%d wal_lists=%d wal_walks=%d heads=%d gets=%d puts=%d", lists, walLists, walWalks, heads, gets, puts);
    }

    /** Tiny objects straight into the backend on a few threads: the listing is measured, not the upload. */
    private static void plant(BlobStore store, String wal, int segments) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new java.util.ArrayList<>();
            int chunk = 1000;
            for (int from = 1; from <= segments; from += chunk) {
                int start = from;
                int end = Math.min(segments, from + chunk - 1);
                done.add(pool.submit(() -> {
                    for (int i = start; i <= end; i++) {
                        String name = String.format(Locale.ROOT, "%08X%08X%08X.gz", 1, i >>> 8, i & 0xFF);
                        store.putBlob(S3Server.BUCKET, store.blobBuilder(wal + name).payload(new byte[] {1}).build());
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
