package io.pgbackup.core.archive;

/** Sets up a repository for continuous archiving: layout, archive and restore scripts, and a check of the cluster's settings (the init command). */
public interface ArchiveSetup {
}
