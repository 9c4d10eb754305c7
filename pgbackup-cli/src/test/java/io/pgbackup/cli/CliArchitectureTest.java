package io.pgbackup.cli;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The CLI is a client of the library's API: it parses, calls core and renders. These rules check
 * that on its compiled classes.
 */
class CliArchitectureTest {
    static final JavaClasses CLI = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("io.pgbackup.cli");

    /**
     * The only CLI classes that touch the file system themselves; everything else that reads or
     * writes files (repository, cluster, scripts, crontab) is core's work. Each entry says why.
     */
    static final String[] MAY_USE_FILES = {
            // finds its own installation (bin/pgbackup next to the jar) for the scripts' launcher
            "io.pgbackup.cli.Launcher",
            // finds the demo's S3 server jar next to pgbackup.jar
            "io.pgbackup.cli.DemoS3Server",
            // demo --s3: creates and removes its throwaway directory for the bucket's objects
            "io.pgbackup.cli.DemoCommand",
            // warm-up (class-data sharing training run): a scratch file in a temp directory
            "io.pgbackup.cli.WarmUpCommand",
            // report --html FILE: the page the user asked for, written to a temporary name and renamed
            "io.pgbackup.cli.ReportCommand",
    };

    static final ArchRule CLI_USES_ONLY_THE_API = noClasses()
            .should().dependOnClassesThat().resideInAPackage("io.pgbackup.core.internal..")
            .because("the CLI is a client of the public API (issue 20)");

    static final ArchRule CLI_LEAVES_FILES_TO_CORE = noClasses()
            .that().doNotHaveFullyQualifiedName(MAY_USE_FILES[0])
            .and().doNotHaveFullyQualifiedName(MAY_USE_FILES[1])
            .and().doNotHaveFullyQualifiedName(MAY_USE_FILES[2])
            .and().doNotHaveFullyQualifiedName(MAY_USE_FILES[3])
            .and().doNotHaveFullyQualifiedName(MAY_USE_FILES[4])
            .should().dependOnClassesThat().haveFullyQualifiedName(Files.class.getName())
            .because("the CLI only parses, calls core and renders: file work belongs in core (issue 20)");

    @Test
    void cliDependsOnlyOnTheApi() {
        CLI_USES_ONLY_THE_API.check(CLI);
    }

    @Test
    void cliLeavesFileWorkToCore() {
        CLI_LEAVES_FILES_TO_CORE.check(CLI);
    }
}
