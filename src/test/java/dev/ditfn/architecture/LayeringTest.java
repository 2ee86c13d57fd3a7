package dev.ditfn.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The layering of design.md §9: api -> app -> engine -> {cache, dit, scheduler} -> runtime -> {onnx, weights}; model
 * families implement engine/dit interfaces and only the registry (app) names them.
 */
class LayeringTest {
    private static JavaClasses main;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.ditfn");
    }

    @Test
    void noPackageCycles() {
        slices().matching("dev.ditfn.(*)..").should().beFreeOfCycles().check(main);
    }

    @Test
    void theCachesAndTheSharedMachineryKnowNoModelFamily() {
        noClasses().that().resideInAnyPackage("dev.ditfn.cache..", "dev.ditfn.dit..", "dev.ditfn.engine..",
                "dev.ditfn.scheduler..", "dev.ditfn.runtime..", "dev.ditfn.onnx..", "dev.ditfn.weights..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.ditfn.model..").check(main);
    }

    @Test
    void lowerLayersDoNotReachUp() {
        noClasses().that().resideInAnyPackage("dev.ditfn.model..", "dev.ditfn.engine..", "dev.ditfn.cache..",
                "dev.ditfn.dit..", "dev.ditfn.scheduler..", "dev.ditfn.runtime..", "dev.ditfn.onnx..",
                "dev.ditfn.weights..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.ditfn.app..", "dev.ditfn.api..",
                        "dev.ditfn.bench..", "dev.ditfn.cli..").check(main);
        noClasses().that().resideInAnyPackage("dev.ditfn.cache..", "dev.ditfn.dit..", "dev.ditfn.scheduler..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.ditfn.engine..").check(main);
    }

    @Test
    void noServingCodeInTheModelAndEngineLayers() {
        noClasses().that().resideInAnyPackage("dev.ditfn.model..", "dev.ditfn.engine..", "dev.ditfn.dit..",
                "dev.ditfn.cache..").should().dependOnClassesThat()
                .resideInAnyPackage("io.quarkus..", "jakarta.enterprise..", "jakarta.inject..", "io.vertx..")
                .check(main);
    }
}
