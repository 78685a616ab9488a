package dev.toykvm.vmm;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The kernel/userspace line: the VMM programs against kvm-api, never the kernel side. */
class VmmUsesOnlyKvmApiTest {
  private final JavaClasses classes =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.toykvm");

  @Test
  void vmmDoesNotDependOnTheKernelSide() {
    noClasses()
        .that()
        .resideInAPackage("dev.toykvm.vmm..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.toykvm.kernel..")
        .because("the VMM uses only kvm-api, as a VMM uses only linux/kvm.h")
        .check(classes);
  }

  @Test
  void vmmDoesNotSeeUnicorn() {
    noClasses()
        .that()
        .resideInAPackage("dev.toykvm.vmm..")
        .should()
        .dependOnClassesThat()
        .haveNameMatching("(?i).*unicorn.*")
        .check(classes);
  }
}
