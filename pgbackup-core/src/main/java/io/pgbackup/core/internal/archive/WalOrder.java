package io.pgbackup.core.internal.archive;

import java.util.Comparator;

/** PostgreSQL's archiving order: timeline history files first, then everything else by name. */
final class WalOrder {
    static final Comparator<String> COMPARATOR = Comparator.<String, Boolean>comparing(n -> !n.endsWith(".history"))
            .thenComparing(Comparator.naturalOrder());

    private WalOrder() {
    }
}
