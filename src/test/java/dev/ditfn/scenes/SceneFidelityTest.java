package dev.ditfn.scenes;

import dev.ditfn.engine.image.RgbImage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SceneFidelityTest {
    private static final SceneObject RED_CIRCLE =
            new SceneObject(SceneShape.CIRCLE, SceneColour.RED, SceneSize.LARGE, SceneCell.TOP_LEFT);
    private static final SceneObject GREEN_STAR =
            new SceneObject(SceneShape.STAR, SceneColour.GREEN, SceneSize.SMALL, SceneCell.BOTTOM_RIGHT);
    private static final Scene EXPECTED = new Scene(SceneColour.BLUE, List.of(RED_CIRCLE, GREEN_STAR));

    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    @ParameterizedTest
    @ValueSource(ints = {64, 96, 128})
    void renderedScenesPass(int size) {
        List<FidelityResult> results = new ArrayList<>();
        new SceneSampler(size).stream(SceneSplit.TRAIN).limit(200).forEach(s -> {
            FidelityResult r = SceneFidelity.evaluate(SceneRenderer.render(s.scene(), size), s.scene());
            assertTrue(r.passed(), s.caption() + ": " + r);
            results.add(r);
        });
        FidelitySummary summary = FidelitySummary.of(results);
        assertEquals(new FidelitySummary(200, 1, 1, 1, 1, 1, 1, 1), summary);
    }

    @Test
    void renderedScenesPassAtOtherSizes() {
        for (int size : new int[] {64, 80, 176}) {
            new SceneSampler(size).stream(SceneSplit.EVAL).limit(20).forEach(s -> assertTrue(
                    SceneFidelity.evaluate(SceneRenderer.render(s.scene(), size), s.scene()).passed(), s.caption()));
        }
    }

    @Test
    void renderingIsDeterministic() {
        assertArrayEquals(SceneRenderer.render(EXPECTED, 96).rgb(), SceneRenderer.render(EXPECTED, 96).rgb());
    }

    @Test
    void rejectsWrongBackground() {
        FidelityResult r = evaluate(new Scene(SceneColour.YELLOW, List.of(RED_CIRCLE, GREEN_STAR)));
        assertFalse(r.background());
        assertFalse(r.passed());
    }

    @Test
    void rejectsWrongColour() {
        FidelityResult r = evaluate(new Scene(SceneColour.BLUE, List.of(
                new SceneObject(SceneShape.CIRCLE, SceneColour.ORANGE, SceneSize.LARGE, SceneCell.TOP_LEFT),
                GREEN_STAR)));
        assertEquals(new ObjectFidelity(false, true, true, true), r.objects().get(0));
        assertFalse(r.passed());
    }

    @Test
    void rejectsWrongShapes() {
        for (SceneShape[] pair : new SceneShape[][] {
                {SceneShape.CIRCLE, SceneShape.SQUARE}, {SceneShape.STAR, SceneShape.CROSS},
                {SceneShape.TRIANGLE, SceneShape.STAR}, {SceneShape.SQUARE, SceneShape.CROSS}}) {
            for (SceneSize size : SceneSize.values()) {
                Scene drawn = Scene.of(SceneColour.WHITE, new SceneObject(pair[0], SceneColour.BLACK, size,
                        SceneCell.CENTER));
                Scene expected = Scene.of(SceneColour.WHITE, new SceneObject(pair[1], SceneColour.BLACK, size,
                        SceneCell.CENTER));
                FidelityResult r = SceneFidelity.evaluate(SceneRenderer.render(drawn, 96), expected);
                assertFalse(r.objects().get(0).shape(), pair[0] + " drawn, " + pair[1] + " expected");
                assertFalse(r.passed());
            }
        }
    }

    @Test
    void rejectsWrongSize() {
        FidelityResult r = evaluate(new Scene(SceneColour.BLUE, List.of(RED_CIRCLE,
                new SceneObject(SceneShape.STAR, SceneColour.GREEN, SceneSize.LARGE, SceneCell.BOTTOM_RIGHT))));
        assertEquals(new ObjectFidelity(true, true, false, true), r.objects().get(1));
        assertFalse(r.passed());
    }

    @Test
    void rejectsWrongCell() {
        FidelityResult r = evaluate(new Scene(SceneColour.BLUE, List.of(
                new SceneObject(SceneShape.CIRCLE, SceneColour.RED, SceneSize.LARGE, SceneCell.TOP), GREEN_STAR)));
        assertFalse(r.objects().get(0).position());
        assertFalse(r.noExtraObjects());
        assertFalse(r.passed());
    }

    @Test
    void rejectsAnExtraObject() {
        FidelityResult r = evaluate(Scene.of(SceneColour.BLUE, RED_CIRCLE));
        assertTrue(r.objects().get(0).passed());
        assertFalse(r.noExtraObjects());
        assertFalse(r.passed());
    }

    @Test
    void rejectsNoiseAndBackgroundOnlyImages() {
        Random random = new Random(1);
        SceneSampler sampler = new SceneSampler(11);
        for (int i = 0; i < 50; i++) {
            Scene scene = sampler.sample(i).scene();
            byte[] noise = new byte[96 * 96 * 3];
            random.nextBytes(noise);
            assertFalse(SceneFidelity.evaluate(new RgbImage(96, 96, noise), scene).passed());
            FidelityResult empty = SceneFidelity.evaluate(plainImage(96, scene.background()), scene);
            assertTrue(empty.background());
            assertFalse(empty.objects().get(0).colour());
            assertFalse(empty.passed());
        }
    }

    private static RgbImage plainImage(int size, SceneColour colour) {
        byte[] rgb = new byte[size * size * 3];
        for (int i = 0; i < size * size; i++) {
            rgb[3 * i] = (byte) (colour.rgb() >> 16);
            rgb[3 * i + 1] = (byte) (colour.rgb() >> 8);
            rgb[3 * i + 2] = (byte) colour.rgb();
        }
        return new RgbImage(size, size, rgb);
    }

    private static FidelityResult evaluate(Scene expected) {
        return SceneFidelity.evaluate(SceneRenderer.render(EXPECTED, 96), expected);
    }
}
