package dev.ditfn.testing;

import dev.ditfn.config.DitConfig;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.validator.BeanValidationConfigValidator;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import org.hibernate.validator.messageinterpolation.ParameterMessageInterpolator;

import java.util.Map;

/** {@link DitConfig} built by SmallRye Config from given properties, with validation, without booting the app. */
public final class TestConfig {
    private static final Validator VALIDATOR = Validation.byDefaultProvider().configure()
            .messageInterpolator(new ParameterMessageInterpolator()).buildValidatorFactory().getValidator();

    private TestConfig() {
    }

    /**
     * Only these properties (and user.home for the cache-dir default): no system properties or environment,
     * which other tests in this JVM may have changed.
     */
    public static DitConfig load(Map<String, String> properties) {
        SmallRyeConfig config = new SmallRyeConfigBuilder().addDefaultInterceptors()
                .withSources(new PropertiesConfigSource(properties, "test", 500))
                .withSources(new PropertiesConfigSource(Map.of("user.home", System.getProperty("user.home")),
                        "user-home", 100))
                .withMapping(DitConfig.class).withValidator((BeanValidationConfigValidator) () -> VALIDATOR)
                .build();
        return config.getConfigMapping(DitConfig.class);
    }

    /** The built-in defaults. */
    public static DitConfig defaults() {
        return load(Map.of());
    }
}
