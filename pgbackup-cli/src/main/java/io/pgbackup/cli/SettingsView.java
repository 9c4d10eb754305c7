package io.pgbackup.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgbackup.core.config.EnvSettings;

import java.util.function.BiConsumer;

/** Where each setting came from, for {@code status}: the secret's value is never shown, only {@code ****}. */
final class SettingsView {
    private SettingsView() {
    }

    /** {@code report} as JSON with {@code configFile} and {@code settings: [{name, value, source}]} added. */
    static ObjectNode json(Object report, EnvSettings settings) {
        ObjectNode node = BaseCommand.Json.MAPPER.valueToTree(report);
        node.put("configFile", settings.configFile().map(Object::toString).orElse(null));
        node.set("settings", BaseCommand.Json.MAPPER.valueToTree(settings.report()));
        return node;
    }

    /** One row for the file, then one per setting that is not at its default. */
    static void text(EnvSettings settings, BiConsumer<String, String> row) {
        row.accept("config file", settings.configFile().map(Object::toString)
                .orElse("none (--config FILE or PG_BACKUP_CONFIG; settings from the environment only)"));
        for (EnvSettings.Setting s : settings.report()) {
            if (!s.source().equals("default")) {
                row.accept(s.name(), (s.value().isEmpty() ? "(empty)" : s.value()) + "  [" + s.source() + "]");
            }
        }
    }
}
