package io.pgbackup.core.restore;

/** Plans a point-in-time restore as an immutable plan, then carries it out. */
public interface RestorePlanner {
}
