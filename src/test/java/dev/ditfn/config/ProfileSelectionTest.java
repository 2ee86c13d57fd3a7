package dev.ditfn.config;

import io.quarkus.runtime.configuration.QuarkusConfigBuilderCustomizer;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.PropertiesConfigSourceLoader;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Which profile's settings a run gets, with the configuration sources of a packaged run from the repository root:
 * Quarkus's profile handling, {@code ./config/application.properties} (ordinal 260) with its profile files beside
 * it, and the built-in {@code application.properties} (250). Environment and system properties are left out; the
 * profile a launch selects is passed in.
 */
class ProfileSelectionTest {

    private static SmallRyeConfig packaged(String profile) {
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        return new SmallRyeConfigBuilder()
                .withCustomizers(new QuarkusConfigBuilderCustomizer())
                .addDefaultInterceptors()
                .withSources(new PropertiesConfigSource(Map.of("quarkus.profile", profile,
                        "user.home", System.getProperty("user.home")), "launch", 1))
                .withSources(PropertiesConfigSourceLoader.inFileSystem(
                        Path.of("config", "application.properties").toAbsolutePath().toUri().toString(), 260, cl))
                .withSources(PropertiesConfigSourceLoader.inClassPath("application.properties", 250, cl))
                .withMapping(DitConfig.class)
                .build();
    }

    /** {@code java -jar} runs the prod profile: it must serve with the cpu profile's settings. */
    @Test
    void aPlainJavaJarRunGetsTheCpuProfile() {
        SmallRyeConfig config = packaged("prod");
        DitConfig dit = config.getConfigMapping(DitConfig.class);
        assertEquals("cache_dit", dit.cache().backend(), "config/application-cpu.properties' cache backend");
        assertEquals(Device.cpu, dit.device());
        assertEquals(DitConfig.Quantization.INT8, dit.quantization(), "the cpu profile's quantized transformer");
        assertEquals(4, dit.quantizationAccuracyLevel());
        assertEquals(DitConfig.Quantization.NONE, dit.textEncoderQuantization());
        assertEquals(true, dit.threads().spin(), "the CPU pool spins (the built-in default)");
        assertEquals(false, dit.batchedGuidance(), "the profile's default cache never batches: graphs without mask");
        assertEquals(List.of("prod", "cpu"), config.getProfiles());
    }

    @Test
    void quarkusProfileStillSwitchesTarget() {
        SmallRyeConfig config = packaged("gpu");
        DitConfig dit = config.getConfigMapping(DitConfig.class);
        assertEquals(Device.cuda, dit.device());
        assertEquals(8, dit.cache().maxWarmupSteps());
        assertEquals(false, dit.threads().spin(), "the gpu profile's host threads sleep");
        assertEquals(List.of("gpu"), config.getProfiles(), "no cpu settings under another target");
        assertEquals(Device.cann, packaged("ascend").getConfigMapping(DitConfig.class).device());
    }

    /** Tests keep the built-in defaults: no step cache unless a test asks for one. */
    @Test
    void testsKeepTheBuiltInDefaults() {
        SmallRyeConfig config = packaged("test");
        assertEquals("none", config.getConfigMapping(DitConfig.class).cache().backend());
        assertEquals(List.of("test"), config.getProfiles());
    }
}
