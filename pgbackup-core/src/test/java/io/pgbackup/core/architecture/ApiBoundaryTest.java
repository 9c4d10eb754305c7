package io.pgbackup.core.architecture;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The library's boundary, checked on its compiled classes: {@code io.pgbackup.core.internal} is
 * internal in fact, not only by name (no module descriptor enforces it, see the notes on
 * module-info), and the capability packages do not lean on each other in circles.
 */
class ApiBoundaryTest {
    static final JavaClasses CORE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("io.pgbackup.core");

    /** The most public top-level types the API may have outside {@code internal} (issue 20). */
    static final int MAX_PUBLIC_TYPES = 45;

    /** Embedders compile against the API only: no API type may name, return or call an internal one. */
    static final ArchRule API_DOES_NOT_DEPEND_ON_INTERNAL = noClasses()
            .that().resideOutsideOfPackage("io.pgbackup.core.internal..")
            .should().dependOnClassesThat().resideInAPackage("io.pgbackup.core.internal..")
            .because("the public API must not expose or import io.pgbackup.core.internal (issue 20)");

    /** One slice per capability package (archive, backup, restore, ..., internal): no cycles between them. */
    static final ArchRule NO_CYCLES_BETWEEN_CAPABILITIES = slices()
            .matching("io.pgbackup.core.(*)..")
            .should().beFreeOfCycles();

    @Test
    void apiDoesNotDependOnInternal() {
        API_DOES_NOT_DEPEND_ON_INTERNAL.check(CORE);
    }

    @Test
    void capabilityPackagesAreFreeOfCycles() {
        NO_CYCLES_BETWEEN_CAPABILITIES.check(CORE);
    }

    /** A small API: records and enums nest in the type that returns them, implementations live in internal. */
    @Test
    void apiHasAtMostMaxPublicTypes() {
        java.util.List<String> api = CORE.stream()
                .filter(JavaClass::isTopLevelClass)
                .filter(c -> c.getModifiers().contains(com.tngtech.archunit.core.domain.JavaModifier.PUBLIC))
                .filter(c -> !c.getPackageName().startsWith("io.pgbackup.core.internal"))
                .map(JavaClass::getName).sorted().toList();
        org.assertj.core.api.Assertions.assertThat(api)
                .as("public top-level types outside io.pgbackup.core.internal (at most %d): %s", MAX_PUBLIC_TYPES, api)
                .hasSizeLessThanOrEqualTo(MAX_PUBLIC_TYPES);
    }
}
