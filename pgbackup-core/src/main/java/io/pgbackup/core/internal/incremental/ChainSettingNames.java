package io.pgbackup.core.internal.incremental;

import io.pgbackup.core.config.EnvSettings;

import java.util.List;

/** Registers the incremental chain's settings as known to a configuration file (META-INF/services). */
public final class ChainSettingNames implements EnvSettings.Names {
    @Override
    public List<String> names() {
        return List.of(ChainSettings.PG_BACKUP_FULL_INTERVAL_DAYS, ChainSettings.PG_BACKUP_MAX_CHAIN);
    }
}
