package dev.ditfn.scenes;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SceneCaptionTest {
    private static final Scene RED_CIRCLE = Scene.of(SceneColour.BLUE,
            new SceneObject(SceneShape.CIRCLE, SceneColour.RED, SceneSize.LARGE, SceneCell.CENTER));
    private static final Scene TWO = new Scene(SceneColour.BLUE, List.of(
            new SceneObject(SceneShape.SQUARE, SceneColour.GREEN, SceneSize.SMALL, SceneCell.BOTTOM_RIGHT),
            new SceneObject(SceneShape.CIRCLE, SceneColour.RED, SceneSize.LARGE, SceneCell.TOP_LEFT)));

    @Test
    void wordsOneObjectScenes() {
        assertEquals("a red circle on a blue background", SceneCaption.caption(RED_CIRCLE, Phrasing.ALL.get(0)));
        assertEquals("a blue background with a red circle", SceneCaption.caption(RED_CIRCLE, Phrasing.ALL.get(4)));
        assertEquals("a large red circle in the center on a blue background", SceneCaption.canonical(RED_CIRCLE));
        Scene small = Scene.of(SceneColour.BLUE,
                new SceneObject(SceneShape.CIRCLE, SceneColour.RED, SceneSize.SMALL, SceneCell.TOP_LEFT));
        assertEquals("a small red circle at the top left on a blue background",
                SceneCaption.caption(small, Phrasing.ALL.get(0)));
        assertEquals("a blue background with a small red circle at the top left",
                SceneCaption.caption(small, Phrasing.ALL.get(4)));
    }

    @Test
    void wordsTwoObjectsInCellOrderWithArticles() {
        assertEquals("a red circle at the top left and a small green square at the bottom right on a blue background",
                SceneCaption.caption(TWO, Phrasing.ALL.get(0)));
        Scene orange = Scene.of(SceneColour.WHITE,
                new SceneObject(SceneShape.SQUARE, SceneColour.ORANGE, SceneSize.LARGE, SceneCell.CENTER));
        assertEquals("an orange square on a white background", SceneCaption.caption(orange, Phrasing.ALL.get(0)));
        Scene onOrange = Scene.of(SceneColour.ORANGE,
                new SceneObject(SceneShape.STAR, SceneColour.BLACK, SceneSize.LARGE, SceneCell.CENTER));
        assertEquals("an orange background with a black star", SceneCaption.caption(onOrange, Phrasing.ALL.get(4)));
    }

    @Test
    void parsesEveryPhrasingBackToTheScene() {
        SceneSampler sampler = new SceneSampler(7);
        for (int i = 0; i < 500; i++) {
            Scene scene = sampler.sample(i).scene();
            for (Phrasing p : Phrasing.ALL) {
                String caption = SceneCaption.caption(scene, p);
                assertEquals(Optional.of(scene), SceneCaption.parse(caption), caption);
            }
        }
    }

    @Test
    void parseAppliesDefaults() {
        assertEquals(Optional.of(RED_CIRCLE), SceneCaption.parse("a red circle on a blue background"));
        assertEquals(Optional.of(TWO), SceneCaption.parse(
                "a blue background with a small green square at the bottom right and a large red circle at the top left"));
    }

    @Test
    void parseRejectsNearMisses() {
        for (String bad : List.of(
                "a red circle on blue background",
                "two red circles on a blue background",
                "a pink circle on a blue background",
                "a red circle at the top left and a green square at the top left on a blue background",
                "a red circle and a green square at the top on a blue background",
                "a red circle on a red background",
                "a orange square on a blue background",
                "an red circle on a blue background",
                "a red circle  on a blue background",
                "A red circle on a blue background",
                "a red circle on a blue background.",
                "a red circle on a blue background ",
                "a blue background with a red circle on a blue background",
                "a red circle",
                "")) {
            assertEquals(Optional.empty(), SceneCaption.parse(bad), bad);
        }
    }

    @Test
    void vocabularyCoversEveryCaptionWord() {
        List<String> vocabulary = SceneCaption.vocabulary();
        SceneSampler sampler = new SceneSampler(3);
        for (int i = 0; i < 300; i++) {
            for (String word : sampler.sample(i).caption().split(" ")) {
                assertTrue(vocabulary.contains(" " + word) && vocabulary.contains(word), word);
            }
        }
    }
}
