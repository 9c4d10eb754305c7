package io.pgbackup.core.internal.postgres.replication;

import java.util.List;

/** One result set of a simple query: column names and rows of text values (null for SQL NULL). */
record QueryResult(List<String> columns, List<List<String>> rows) {
    String value(int row, int column) {
        return rows.get(row).get(column);
    }
}
