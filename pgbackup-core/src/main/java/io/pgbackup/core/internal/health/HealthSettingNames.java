package io.pgbackup.core.internal.health;

import io.pgbackup.core.config.EnvSettings;
import io.pgbackup.core.health.HealthSettings;

import java.util.List;

/** Registers health's settings as known to a configuration file (META-INF/services). */
public final class HealthSettingNames implements EnvSettings.Names {
    @Override
    public List<String> names() {
        return HealthSettings.NAMES;
    }
}
